// The one catalogue of polyprov's error codes, in the manner of Fastify's errors.
// A code is never renamed or reused. docs/errors.md has one row per code (a test checks it).
// Callers and tests match on `code`, never on message text.

export type Severity = 'error' | 'warning' | 'info';

export interface ErrorDef {
  /** Default severity (lint uses it; runtime refusals are always errors). */
  severity: Severity;
  /** Short human summary; the full message is built at the throw site. */
  summary: string;
  /** HTTP status when this code refuses a request. */
  http?: number;
  /** TFTP ERROR code (RFC 1350: 1 not found, 2 access violation, 3 disk full, 4 illegal op, 0 other). */
  tftp?: number;
  /** FTP reply code. */
  ftp?: number;
  /**
   * Seconds to wait before trying again, for refusals that are temporary: HTTP sends it as
   * Retry-After (RFC 9110 §10.2.3) with the status.
   */
  retryAfterS?: number;
}

// Keep entries grouped by area; add new codes at the end of their group.
export const ERRORS = {
  // --- configuration formats (src/config) ---
  PP_CFG_XML_MALFORMED: { severity: 'error', summary: 'XML is not well formed' },
  PP_CFG_ENCRYPTED: { severity: 'info', summary: 'encrypted configuration file (Crypt=), not decoded' },
  PP_CFG_NOT_MASTER: { severity: 'error', summary: 'master file has no APPLICATION root element' },
  PP_CFG_ENTRY_TOO_LONG: { severity: 'error', summary: 'master file entry over 255 characters' },
  PP_CFG_LIST_TOO_LONG: { severity: 'error', summary: 'CONFIG_FILES list over 2047 characters' },
  PP_CFG_FILE_MISSING: { severity: 'error', summary: 'a file the master file names is missing' },
  PP_CFG_DUPLICATE_ATTR: { severity: 'error', summary: 'attribute set twice on one element' },
  PP_PARAM_UNKNOWN: { severity: 'warning', summary: 'parameter not in the catalogue' },
  PP_PARAM_BAD_VALUE: { severity: 'error', summary: 'value outside the parameter type or range' },
  PP_PARAM_SHADOWED: { severity: 'info', summary: 'parameter set in two files of one phone chain' },
  PP_PARAM_DEVICE_NOT_SET: { severity: 'warning', summary: 'device.* value without its .set flag' },
  PP_SEC_FACTORY_ADMIN_PASSWORD: { severity: 'warning', summary: 'factory admin password 456' },
  PP_SEC_FACTORY_PROV_ACCOUNT: { severity: 'warning', summary: 'factory PlcmSpIp provisioning credentials' },
  PP_SEC_SHARED_SECRET: { severity: 'error', summary: 'a secret in a file every phone reads' },
  PP_SEC_WEB_SERVER_ON: { severity: 'warning', summary: 'phone web server left on' },
  PP_SEC_ALWAYS_REBOOT: { severity: 'warning', summary: 'every check-sync reboots the phone' },
  PP_SEC_URL_CREDENTIALS: { severity: 'warning', summary: 'a master-file URL carries a user and password' },
  PP_DIR_CT_MISSING: { severity: 'error', summary: 'contact without ct' },
  PP_DIR_CT_DUPLICATE: { severity: 'error', summary: 'ct duplicated in a contact directory' },
  PP_DIR_NAME_TOO_LONG: { severity: 'error', summary: 'name or label over 40 UTF-8 bytes' },
  PP_DIR_SD_RANGE: { severity: 'error', summary: 'speed dial outside 1-9999' },
  PP_DIR_RT_RANGE: { severity: 'error', summary: 'ring type outside 1-21' },
  PP_DIR_FLAG_VALUE: { severity: 'error', summary: 'flag other than 0 or 1' },
  PP_DIR_TOO_MANY: { severity: 'error', summary: 'more contacts than the model holds' },
  PP_CFG_NO_MASTER: { severity: 'error', summary: 'no master file in the tree' },
  PP_CFG_ENTRY_CHARS: { severity: 'error', summary: 'CONFIG_FILES entry with a space, backslash or % escape' },
  PP_PARAM_DEVICE_STATIC_SHARED: { severity: 'warning', summary: 'static IP, gateway or host name in a file many phones read' },
  PP_CFG_MANAGED_NOT_LISTED: { severity: 'warning', summary: 'managed phones read a master file that does not list managed/[PHONE_MAC_ADDRESS].cfg' },

  // --- requests (src/core) ---
  PP_PATH_HOSTILE: { severity: 'error', summary: 'path escapes the root or is malformed', http: 400, tftp: 2, ftp: 553 },
  PP_NOT_FOUND: { severity: 'error', summary: 'no such file', http: 404, tftp: 1, ftp: 550 },
  PP_READ_ONLY: { severity: 'error', summary: 'file is read-only for phones', http: 403, tftp: 2, ftp: 550 },
  PP_WRITE_OTHER_MAC: { severity: 'error', summary: 'a phone may write only its own MAC files', http: 403, tftp: 2, ftp: 550 },
  PP_AUTH_REQUIRED: { severity: 'error', summary: 'credentials required', http: 401, tftp: 2, ftp: 530 },
  PP_AUTH_FAILED: { severity: 'error', summary: 'wrong user or password', http: 401, tftp: 2, ftp: 530 },
  PP_AUTH_WRONG_PHONE: { severity: 'error', summary: 'account not bound to this phone', http: 403, tftp: 2, ftp: 550 },
  PP_DIGEST_NONCE_REPLAYED: { severity: 'error', summary: 'digest nonce reused or expired', http: 401, tftp: 2, ftp: 530 },
  PP_ADDRESS_DENIED: { severity: 'error', summary: 'client address not allowed', http: 403, tftp: 2, ftp: 530 },
  PP_RATE_LIMITED: { severity: 'error', summary: 'too many requests from this address', http: 429, tftp: 0, ftp: 421, retryAfterS: 1 },
  PP_UPLOAD_TOO_LARGE: { severity: 'error', summary: 'upload over the size limit', http: 413, tftp: 3, ftp: 552 },
  PP_UPLOAD_TRUNCATED: { severity: 'error', summary: 'upload ended before its announced size', http: 400, tftp: 0, ftp: 426 },
  PP_UPLOAD_FAILED: { severity: 'error', summary: 'upload could not be stored', http: 500, tftp: 3, ftp: 451 },
  PP_SECRET_TRANSPORT: { severity: 'error', summary: 'file holds secrets; not served over this transport to this network', http: 403, tftp: 2, ftp: 550 },
  PP_LISTING_REFUSED: { severity: 'error', summary: 'directory listings are not served', http: 403, tftp: 1, ftp: 550 },
  PP_BAD_REQUEST: { severity: 'error', summary: 'malformed request', http: 400, tftp: 4, ftp: 501 },
  PP_INTERNAL: { severity: 'error', summary: 'internal error', http: 500, tftp: 0, ftp: 451 },

  // --- the state store (src/store, the core's audit recorder) ---
  // Issue 13 item 13: a database outage is "retry later" on every wire (HTTP 503, FTP 421 "service
  // not available", TFTP ERROR 0 whose text says so), never an internal error.
  PP_STORE_UNAVAILABLE: { severity: 'error', summary: 'state store unavailable, retry shortly', http: 503, tftp: 0, ftp: 421, retryAfterS: 1 },
  PP_STORE_SPOOL_FULL: { severity: 'error', summary: 'audit spool full while the store was unavailable; newer records dropped' },

  // --- the managed fleet (src/fleet, issue 14) ---
  PP_FLEET_SCOPE_INVALID: { severity: 'error', summary: 'malformed scope (global, tenant:T, site:S, group:G, phone:MAC)', http: 400 },
  PP_FLEET_PARAM_UNKNOWN: { severity: 'error', summary: 'managed setting names a parameter not in the catalogue', http: 400 },
  PP_FLEET_PARAM_INVALID: { severity: 'error', summary: 'managed setting value outside the parameter type or range', http: 400 },
  PP_FLEET_KEY_MISMATCH: { severity: 'error', summary: 'secret key cannot open the sealed values (wrong key)' },
  PP_FLEET_KEY_MISSING: { severity: 'error', summary: 'no secret key given (required on a shared store), or key unusable' },
  PP_FLEET_CSV_INVALID: { severity: 'error', summary: 'fleet CSV file has bad rows; nothing applied', http: 400 },
  PP_FLEET_NOT_FOUND: { severity: 'error', summary: 'no such tenant, site, group or managed phone', http: 404 },
  PP_FLEET_EXISTS: { severity: 'error', summary: 'tenant, site, group or phone already exists', http: 409 },
  PP_FLEET_TENANT_CLASH: { severity: 'error', summary: 'tenant name clashes with a file or folder at the root, or a MAC of another tenant', http: 409 },

  // --- the REST API (src/api, issue 15) ---
  PP_API_INVALID: { severity: 'error', summary: 'request body, parameter or query invalid (malformed JSON, wrong type, unknown field)', http: 400 },
  PP_API_TOO_LARGE: { severity: 'error', summary: 'request body over the API size limit', http: 413 },
  PP_API_MEDIA_TYPE: { severity: 'error', summary: 'request body in a content type this route does not take', http: 415 },
  PP_API_FORBIDDEN: { severity: 'error', summary: "the token's role does not allow this", http: 403 },
  PP_API_NOT_FOUND: { severity: 'error', summary: 'no such API resource or route', http: 404 },
  PP_API_PRECONDITION_REQUIRED: { severity: 'error', summary: 'update without If-Match', http: 428 },
  PP_API_PRECONDITION_FAILED: { severity: 'error', summary: 'If-Match does not match the resource (changed since read)', http: 412 },
  PP_API_TOKEN_EXISTS: { severity: 'error', summary: 'an API token of that name exists', http: 409 },
  PP_API_EXISTS: { severity: 'error', summary: 'a resource of that name exists', http: 409 },

  // --- DHCP (src/dhcp) ---
  PP_DHCP_MALFORMED: { severity: 'error', summary: 'malformed, truncated or hostile DHCP packet dropped' },

  // --- server options and CLI ---
  PP_OPT_UNKNOWN: { severity: 'error', summary: 'unknown option key' },
  PP_OPT_INVALID: { severity: 'error', summary: 'option value invalid' },
  PP_USAGE: { severity: 'error', summary: 'command-line usage error' },
  PP_DATA_DIR_OPEN: { severity: 'error', summary: 'data directory readable by group or others' },
  PP_STATE_MISSING: { severity: 'error', summary: 'no server state at the data directory' },
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERRORS;

/** Lookup with the optional wire fields visible (the const object narrows them away). */
export function errorDef(code: ErrorCode): ErrorDef {
  return ERRORS[code];
}

export interface ProvErrorInit {
  file?: string;
  line?: number;
  column?: number;
  hint?: string;
  cause?: unknown;
  severity?: Severity;
}

/**
 * An error with a stable code. `message` is the full human text (what is wrong, why it matters
 * to a phone); `hint` says what to do. `format()` renders it compiler-style.
 */
export class ProvError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly hint?: string;
  readonly severity: Severity;

  /**
   * An expected refusal (a phone asking for an optional file it may not have) built without a
   * stack trace: boot storms answer thousands of 404s a second, and with source maps on (tsx)
   * capturing stacks was a measurable share of the server's CPU.
   */
  static expected(code: ErrorCode, message: string): ProvError {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new ProvError(code, message);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  constructor(code: ErrorCode, message: string, init: ProvErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ProvError';
    this.code = code;
    this.file = init.file;
    this.line = init.line;
    this.column = init.column;
    this.hint = init.hint;
    this.severity = init.severity ?? ERRORS[code].severity;
  }

  get def(): ErrorDef {
    return ERRORS[this.code];
  }

  /** `file:line:column: CODE message. hint` */
  format(): string {
    let where = '';
    if (this.file) {
      where = this.file;
      if (this.line) where += `:${this.line}`;
      if (this.line && this.column) where += `:${this.column}`;
      where += ': ';
    }
    return `${where}${this.code} ${this.message}${this.hint ? ` ${this.hint}` : ''}`;
  }
}

export function isProvError(e: unknown): e is ProvError {
  return e instanceof ProvError;
}
