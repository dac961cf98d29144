// Server options: one schema for the options file (JSON, `polyprov.json`), the environment and
// the CLI flags merged over it. Validated once, here, at the edge: each value against its field,
// then the rules between fields (a TLS listener needs a certificate, the FTP passive range), so
// neither server.ts, the listeners nor the core check options again. The result is frozen and
// passed down typed. Every refusal is PP_OPT_UNKNOWN (with the nearest known name) or
// PP_OPT_INVALID (naming where the value came from: file:line, the flag or the variable, and
// what is allowed). Every default lives here, with its unit in its name.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ProvError } from './errors.ts';
import { parseCidr } from './util/address.ts';
import { nearest } from './util/nearest.ts';

export interface ServerOptions {
  /** The provisioning tree served to phones. */
  root: string;
  /** Where the embedded store and upload temp files live. */
  data: string;
  /** `sqlite` (embedded, under `data`) or a `postgres://` URL shared by several nodes. */
  storeUrl: string;
  /**
   * The key that seals managed secrets (issue 14): a file of 64 hex digits (or base64 of 32 bytes),
   * mode 0600. POLYPROV_SECRET_KEY wins over it; absent both, `<data>/secret.key` (created on the
   * embedded store; every node of a PostgreSQL store must be given the same key).
   */
  secretKeyFile?: string;
  /** Where the options came from (for messages). */
  configFile?: string;
  http?: string;
  https?: string;
  tftp?: string;
  ftp?: string;
  ftps?: string;
  /** Admin listener: Prometheus /metrics, /healthz and the REST API under /api/v1 (issue 15). */
  admin?: string;
  /** TLS certificate and key for the admin listener (HTTPS); both or neither. */
  adminCert?: string;
  adminKey?: string;
  /** Failed REST API authentications per source address per minute before it gets 429. */
  apiAuthFailuresPerMinute: number;
  cert?: string;
  key?: string;
  clientCa?: string;
  /** Accept TLS 1.0/1.1 and legacy ciphers for old SoundPoint IP bootROMs. */
  tlsLegacy: boolean;
  policy: 'open' | 'accounts';
  /** Digest/Basic realm phones authenticate against. */
  realm: string;
  /** While true the factory PlcmSpIp/PlcmSpIp account is accepted (and phones get enrolled). */
  staging: boolean;
  /** Issue per-phone credentials to phones that authenticate with the staging account. */
  enrol: boolean;
  /** Parameter patterns (`reg.*`, `device.*`) a phone's uploaded override may not change. */
  lockedParams: string[];
  /**
   * Contact directories are read-only for phones: uploads of `<MAC>-directory.xml` are refused and
   * the phone keeps its cached copy (white paper, CONTACT_DIRECTORY: "Polycom recommends that you
   * set the directory file with read-only permissions").
   */
  contactsReadOnly: boolean;
  /** CIDRs allowed to talk to the boot server at all (empty: everyone). */
  allow: string[];
  /** CIDRs allowed to fetch files holding secrets over TFTP (which carries no credentials). */
  tftpSecretAllow: string[];
  /**
   * Serve and accept uploads over TFTP for phones bound to their own account (from tftpSecretAllow
   * networks only). Off by default: TFTP carries no credentials, so anyone on such a network
   * could read that phone's SIP password or overwrite its override (issue 13 item 8).
   */
  tftpBoundPhones: boolean;
  /** Token bucket per source address. */
  rateLimitPerSec: number;
  rateLimitBurst: number;
  digestNonceTtlMs: number;
  httpHeaderTimeoutMs: number;
  httpBodyTimeoutMs: number;
  httpKeepAliveTimeoutMs: number;
  uploadMaxBytesOverride: number;
  uploadMaxBytesDirectory: number;
  uploadMaxBytesLog: number;
  uploadMaxBytesCalls: number;
  uploadKeepVersions: number;
  logCapBytes: number;
  tftpBlksizeMax: number;
  tftpWindowsizeMax: number;
  tftpTimeoutMs: number;
  tftpRetries: number;
  tftpMaxSessions: number;
  /** Worker threads that send TFTP read blocks (0: all on the main thread). */
  tftpWorkers: number;
  /** Hold a busy warm phone's inventory updates until it is quiet this long (0: write them with each audit batch). */
  inventoryHoldMs: number;
  /**
   * The audit write-ahead journal (src/core/audit-journal.ts): `auto` keeps it on a PostgreSQL store,
   * where a flush is a network round trip that can stall, and off on the embedded store, whose local
   * commit keeps a killed process's loss within the flush wait (100 ms) without it.
   */
  auditJournal: 'auto' | 'on' | 'off';
  /** How far the JavaScript heap may grow between full collections, in percent of what survived the last (0: V8's own choice). */
  heapGrowthPercent: number;
  ftpPassivePortMin: number;
  ftpPassivePortMax: number;
  /**
   * Processes `serve` runs behind the same listeners (issue 16, One machine, every core): 0 is one
   * per core (os.availableParallelism()), 1 is one process exactly as before.
   */
  workers: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** `hostPort`: a listener, HOST:PORT; `cidr[]`: addresses or networks (10.0.0.0/8, 2001:db8::/32). */
type Kind = 'string' | 'number' | 'boolean' | 'string[]' | 'hostPort' | 'cidr[]' | readonly string[];

interface Field {
  kind: Kind;
  default?: unknown;
  min?: number;
  max?: number;
  /** For strings: the shape the value must have. */
  pattern?: RegExp;
  doc: string;
}

export const OPTION_SCHEMA: Record<keyof ServerOptions, Field> = {
  root: { kind: 'string', default: 'site', doc: 'provisioning tree served to phones' },
  data: { kind: 'string', default: 'polyprov-data', doc: 'state directory (embedded SQLite store)' },
  secretKeyFile: { kind: 'string', doc: 'file holding the key that seals managed secrets (default: $POLYPROV_SECRET_KEY, else <data>/secret.key on the embedded store)' },
  storeUrl: { kind: 'string', default: 'sqlite', pattern: /^(?:sqlite|postgres(?:ql)?:\/\/.+)$/i, doc: '`sqlite` or a postgres:// URL shared by several nodes' },
  configFile: { kind: 'string', doc: 'where these options came from' },
  http: { kind: 'hostPort', doc: 'HTTP listener HOST:PORT' },
  https: { kind: 'hostPort', doc: 'HTTPS listener HOST:PORT' },
  tftp: { kind: 'hostPort', doc: 'TFTP listener HOST:PORT' },
  ftp: { kind: 'hostPort', doc: 'FTP (explicit FTPS with a certificate) listener HOST:PORT' },
  ftps: { kind: 'hostPort', doc: 'implicit FTPS listener HOST:PORT' },
  admin: { kind: 'hostPort', doc: 'admin listener HOST:PORT (/metrics, /healthz, the REST API under /api/v1)' },
  adminCert: { kind: 'string', doc: 'TLS certificate (PEM) of the admin listener: HTTPS' },
  adminKey: { kind: 'string', doc: 'TLS private key (PEM) of the admin listener' },
  apiAuthFailuresPerMinute: { kind: 'number', default: 10, min: 1, max: 1e6, doc: 'failed REST API authentications per source address per minute before 429' },
  cert: { kind: 'string', doc: 'TLS certificate (PEM)' },
  key: { kind: 'string', doc: 'TLS private key (PEM)' },
  clientCa: { kind: 'string', doc: 'CA bundle for client certificates (mutual TLS)' },
  tlsLegacy: { kind: 'boolean', default: false, doc: 'accept TLS 1.0/1.1 and legacy ciphers (old bootROMs)' },
  policy: { kind: ['open', 'accounts'], default: 'accounts', doc: 'access policy' },
  realm: { kind: 'string', default: 'polyprov', doc: 'HTTP authentication realm' },
  staging: { kind: 'boolean', default: false, doc: 'accept the factory PlcmSpIp account' },
  enrol: { kind: 'boolean', default: true, doc: 'issue per-phone credentials to staged phones' },
  lockedParams: { kind: 'string[]', default: [], doc: 'parameter patterns phones may not override' },
  allow: { kind: 'cidr[]', default: [], doc: 'CIDRs allowed to connect (empty: all)' },
  tftpSecretAllow: { kind: 'cidr[]', default: ['127.0.0.0/8', '::1/128'], doc: 'CIDRs that may read files holding secrets over TFTP' },
  tftpBoundPhones: { kind: 'boolean', default: false, doc: 'serve phones bound to their own account over TFTP (no credentials) to tftpSecretAllow networks' },
  rateLimitPerSec: { kind: 'number', default: 200, min: 1, max: 1e6, doc: 'requests per second per source address' },
  rateLimitBurst: { kind: 'number', default: 400, min: 1, max: 1e6, doc: 'burst per source address' },
  digestNonceTtlMs: { kind: 'number', default: 300_000, min: 1000, max: 86_400_000, doc: 'digest nonce lifetime' },
  httpHeaderTimeoutMs: { kind: 'number', default: 10_000, min: 100, max: 600_000, doc: 'time to receive request headers' },
  contactsReadOnly: { kind: 'boolean', default: false, doc: 'refuse phones\' contact directory uploads (they keep their cached copy)' },
  httpBodyTimeoutMs: { kind: 'number', default: 30_000, min: 100, max: 3_600_000, doc: 'time to receive a request body' },
  httpKeepAliveTimeoutMs: { kind: 'number', default: 5_000, min: 100, max: 600_000, doc: 'idle keep-alive connection timeout' },
  uploadMaxBytesOverride: { kind: 'number', default: 1 << 20, min: 1024, max: 1 << 30, doc: 'max override upload' },
  uploadMaxBytesDirectory: { kind: 'number', default: 4 << 20, min: 1024, max: 1 << 30, doc: 'max contact directory upload' },
  uploadMaxBytesLog: { kind: 'number', default: 2 << 20, min: 1024, max: 1 << 30, doc: 'max log upload' },
  uploadMaxBytesCalls: { kind: 'number', default: 1 << 20, min: 1024, max: 1 << 30, doc: 'max call list upload' },
  uploadKeepVersions: { kind: 'number', default: 10, min: 1, max: 1000, doc: 'override/directory versions kept' },
  logCapBytes: { kind: 'number', default: 1 << 20, min: 4096, max: 1 << 30, doc: 'rolling log cap per phone and log' },
  tftpBlksizeMax: { kind: 'number', default: 65464, min: 8, max: 65464, doc: 'largest blksize granted (RFC 2348)' },
  tftpWindowsizeMax: { kind: 'number', default: 64, min: 1, max: 65535, doc: 'largest windowsize granted (RFC 7440)' },
  tftpTimeoutMs: { kind: 'number', default: 1000, min: 100, max: 255_000, doc: 'first retransmission timeout' },
  tftpRetries: { kind: 'number', default: 5, min: 1, max: 20, doc: 'retransmissions before giving up' },
  tftpMaxSessions: { kind: 'number', default: 2000, min: 1, max: 100_000, doc: 'concurrent TFTP sessions' },
  tftpWorkers: { kind: 'number', default: -1, min: -1, max: 64, doc: 'worker threads sending TFTP blocks (0: main thread; -1: one per core on a host with two or more)' },
  inventoryHoldMs: { kind: 'number', default: 0, min: 0, max: 10_000, doc: 'hold a busy warm phone\'s inventory updates until it is quiet this long: one row write per boot, but a killed node loses what it held (0: none held)' },
  auditJournal: { kind: ['auto', 'on', 'off'], default: 'auto', doc: 'audit write-ahead journal in <data>/audit-spool: a killed process loses at most its last 25 ms of audit records (auto: on with PostgreSQL, off with the embedded store, whose local commits already bound the loss to 100 ms; ~2 µs a request)' },
  heapGrowthPercent: { kind: 'number', default: 50, min: 0, max: 300, doc: 'heap growth between full garbage collections, % (0: V8 decides, up to 300%: more memory, a little less CPU)' },
  ftpPassivePortMin: { kind: 'number', default: 0, min: 0, max: 65535, doc: 'first passive port (0: any)' },
  ftpPassivePortMax: { kind: 'number', default: 0, min: 0, max: 65535, doc: 'last passive port (0: any)' },
  workers: { kind: 'number', default: 0, min: 0, max: 256, doc: 'serve processes behind the same listeners (0: one per core; 1: a single process)' },
  logLevel: { kind: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', doc: 'log level' },
};

export const DEFAULT_CONFIG_FILE = 'polyprov.json';

/** Whether the state is the embedded SQLite store under --data (storeUrl `sqlite` or empty), not a PostgreSQL server. */
export function isEmbeddedStore(o: Pick<ServerOptions, 'storeUrl'>): boolean {
  const url = o.storeUrl.trim();
  return url === '' || url === 'sqlite';
}

/**
 * Adds `--data DIR` and `--config FILE`, the same on every command that touches server state,
 * and refuses an unknown flag of that command as PP_OPT_UNKNOWN with the nearest known flag.
 */
export function addStateOptions(cmd: Command): Command {
  const known = () => cmd.options.map((o) => o.long).filter((l): l is string => l !== undefined);
  // commander's own refusal carries no code; ours goes through the one catalogue (exit status 2).
  (cmd as unknown as { unknownOption(flag: string): never }).unknownOption = (flag: string) => {
    const near = flag.startsWith('--') ? nearest(flag, known()) : undefined;
    throw new ProvError('PP_OPT_UNKNOWN', `command line: unknown option ${flag}${near ? `; did you mean ${near}?` : ''}`, { hint: `Run polyprov ${cmd.name()} --help for its options.` });
  };
  return cmd
    .option('--data <dir>', `state directory (default: $POLYPROV_DATA, the config file's "data", or ./${String(OPTION_SCHEMA.data.default)})`)
    .option('--config <file>', `server options file (default: $POLYPROV_CONFIG, or ./${DEFAULT_CONFIG_FILE} when present)`);
}

/** Where one value came from, for messages: a file position, a flag or a variable. */
interface Origin {
  label: string;
  file?: string;
  line?: number;
  column?: number;
}

const DEFAULT_ORIGIN: Origin = { label: 'default' };

/**
 * Builds the frozen ServerOptions: defaults, then the options file, then the environment,
 * then flags. `flags` uses ServerOptions keys (commander camel-cases `--client-ca` to clientCa).
 */
export function loadServerOptions(flags: Partial<Record<string, unknown>> & { config?: string }, env = process.env): Readonly<ServerOptions> {
  const merged: Record<string, unknown> = {};
  const origin = new Map<string, Origin>();
  for (const [k, f] of Object.entries(OPTION_SCHEMA)) if (f.default !== undefined) merged[k] = f.default;

  const explicit = flags.config ?? env.POLYPROV_CONFIG;
  const configFile = explicit ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (configFile) {
    const obj = readOptionsFile(configFile);
    const text = obj.text;
    for (const [k, v] of Object.entries(obj.values)) {
      const o: Origin = { label: configFile, file: configFile, ...positionOfKey(text, k) };
      merged[k] = checkField(k, v, o);
      origin.set(k, o);
    }
    // Paths in the file are relative to the file, as a person writing it expects.
    for (const k of ['root', 'data', 'cert', 'key', 'clientCa', 'adminCert', 'adminKey', 'secretKeyFile'] as const) {
      if (typeof merged[k] === 'string' && k in obj.values) merged[k] = resolve(configFile, '..', merged[k] as string);
    }
    merged.configFile = configFile;
  }
  // The number of serve processes is a property of the machine, so a service unit can set it (issue 16).
  if (env.POLYPROV_WORKERS && flags.workers === undefined) {
    merged.workers = checkField('workers', Number(env.POLYPROV_WORKERS), { label: 'environment POLYPROV_WORKERS' });
    origin.set('workers', { label: 'environment POLYPROV_WORKERS' });
  }
  if (env.POLYPROV_DATA && flags.data === undefined) {
    merged.data = checkField('data', env.POLYPROV_DATA, { label: 'environment POLYPROV_DATA' });
    origin.set('data', { label: 'environment POLYPROV_DATA' });
  }
  for (const [k, v] of Object.entries(flags)) {
    if (k === 'config' || v === undefined) continue;
    if (!(k in OPTION_SCHEMA)) continue; // command-specific flags (json, mac, …) are not server options
    const o: Origin = { label: `command line (--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)})` };
    merged[k] = checkField(k, v, o);
    origin.set(k, o);
  }
  checkCombinations(merged, (k) => origin.get(k) ?? DEFAULT_ORIGIN);
  return Object.freeze(merged as unknown as ServerOptions);
}

function readOptionsFile(file: string): { text: string; values: Record<string, unknown> } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ProvError('PP_OPT_INVALID', `cannot read the options file: ${(err as Error).message}`, { file, cause: err, hint: 'Give --config an existing JSON file, or leave it out.' });
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message);
    const pos = at ? lineColumn(text, Number(at[1])) : {};
    throw new ProvError('PP_OPT_INVALID', `not valid JSON: ${(err as Error).message}`, { file, ...pos, cause: err, hint: 'The options file is JSON: {"root": "site", "http": "0.0.0.0:80"}.' });
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new ProvError('PP_OPT_INVALID', 'the options file must hold one JSON object', { file, hint: 'Write {"root": "site"}.' });
  return { text, values: obj as Record<string, unknown> };
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** Where `"key":` is written in the file (the first occurrence), for messages. */
function positionOfKey(text: string, key: string): { line?: number; column?: number } {
  const i = text.search(new RegExp(`"${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*:`));
  return i < 0 ? {} : lineColumn(text, i);
}

function refuse(code: 'PP_OPT_UNKNOWN' | 'PP_OPT_INVALID', o: Origin, message: string, hint?: string): ProvError {
  // In a file the position is the ProvError's own (file:line:col: CODE …); elsewhere the message says where.
  const prefix = o.file ? '' : `${o.label}: `;
  return new ProvError(code, `${prefix}${message}`, { file: o.file, line: o.line, column: o.column, hint });
}

function checkField(key: string, value: unknown, o: Origin): unknown {
  const f = (OPTION_SCHEMA as Record<string, Field>)[key];
  if (!f) {
    const near = nearest(key, Object.keys(OPTION_SCHEMA));
    throw refuse('PP_OPT_UNKNOWN', o, `unknown option "${key}"${near ? `; did you mean "${near}"?` : ''}`, 'Every option and its default is listed in src/options.ts (README, Server options file).');
  }
  const bad = (allowed: string) => refuse('PP_OPT_INVALID', o, `${key} ${JSON.stringify(value)} ${allowed}`, `${key}: ${f.doc}.`);
  if (Array.isArray(f.kind)) {
    if (typeof value !== 'string' || !f.kind.includes(value)) throw bad(`is not one of ${f.kind.join(', ')}`);
    return value;
  }
  switch (f.kind) {
    case 'string':
      if (typeof value !== 'string') throw bad('is not a string');
      if (f.pattern && !f.pattern.test(value)) throw bad(`does not have the form ${f.doc}`);
      return value;
    case 'hostPort':
      if (typeof value !== 'string' || !HOST_PORT.test(value) || Number(HOST_PORT.exec(value)![3]) > 65535) throw bad('is not HOST:PORT with a port in 0–65535 (e.g. 0.0.0.0:80, [::]:80, 127.0.0.1:8080)');
      return value;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1' || value === 'on') return true;
      if (value === 'false' || value === '0' || value === 'off') return false;
      throw bad('is not a boolean (true or false)');
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isInteger(n)) throw bad(`is not a whole number in ${f.min}–${f.max}`);
      if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) throw bad(`is outside ${f.min}–${f.max}`);
      return n;
    }
    case 'string[]':
    case 'cidr[]': {
      const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
      if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) throw bad('is not a list of strings');
      const wrong = f.kind === 'cidr[]' ? (list as string[]).find((c) => parseCidr(c) === undefined) : undefined;
      if (wrong !== undefined) throw bad(`holds "${wrong}", which is not an address or network (10.0.0.0/8, 192.168.1.5, 2001:db8::/32)`);
      return list;
    }
  }
  return value;
}

const HOST_PORT = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/;

/** The rules between options, checked after merging (a flag may supply what the file lacks). */
function checkCombinations(o: Record<string, unknown>, from: (key: string) => Origin): void {
  for (const [listener, what] of [['https', 'HTTPS'], ['ftps', 'implicit FTPS']] as const) {
    if (o[listener] && (!o.cert || !o.key)) {
      throw refuse('PP_OPT_INVALID', from(listener), `${listener} ${JSON.stringify(o[listener])} needs cert and key (${what} presents a certificate)`, 'Give a PEM certificate and key: --cert site.crt --key site.key, or "cert"/"key" in the options file.');
    }
  }
  if (!o.adminCert !== !o.adminKey) {
    throw refuse('PP_OPT_INVALID', from(o.adminCert ? 'adminCert' : 'adminKey'), 'adminCert and adminKey go together (the admin listener is HTTPS with both)', 'Give both: --admin-cert admin.crt --admin-key admin.key, or neither for HTTP.');
  }
  const min = o.ftpPassivePortMin as number;
  const max = o.ftpPassivePortMax as number;
  // 0 means "any port"; a range is both ends set, lowest first.
  if ((min === 0) !== (max === 0) || min > max) {
    const where = from(min === 0 || min > max ? 'ftpPassivePortMax' : 'ftpPassivePortMin');
    throw refuse('PP_OPT_INVALID', where, `ftpPassivePortMin ${min} and ftpPassivePortMax ${max} are not a passive port range: both 0 (any port), or both set with min ≤ max in 1–65535`, 'Set both, e.g. 50000 and 50100, or neither.');
  }
}

/** Splits a listener value (checked by loadServerOptions) into host and port. */
export function parseHostPort(s: string, what: string): { host: string; port: number } {
  const m = HOST_PORT.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ProvError('PP_OPT_INVALID', `${what} "${s}" is not HOST:PORT with a port in 0–65535`, { hint: 'Write it as 0.0.0.0:80 or 127.0.0.1:8080.' });
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
