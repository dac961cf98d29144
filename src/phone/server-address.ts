// The boot-server address forms a phone accepts (SEED-AG, Server Menu): a dotted-decimal IP
// address, a domain name, or a URL; "All addresses can be followed by an optional directory and
// optional file name." A URL may carry a user name and password, with ':', '@' and '/' escaped
// as RFC 1738 says (%3A, %40, %2F). "If the Server Address is a URL with a user name, [Server
// User] will be ignored"; the password likewise. Server Type defaults to FTP (SEED-AG, Supported
// Provisioning Protocols: "By default, the phones are shipped with FTP enabled"), with the
// factory account PlcmSpIp / PlcmSpIp.
import { isSpecifiedMasterName } from '../config/phone-layout.ts';
import { ProvError } from '../errors.ts';

export type Protocol = 'ftp' | 'tftp' | 'http' | 'https' | 'ftps';

/** SEED-AG Server Menu, Server Type: 0=FTP, 1=TFTP, 2=HTTP, 3=HTTPS, 4=FTPS. */
export const SERVER_TYPES: readonly Protocol[] = ['ftp', 'tftp', 'http', 'https', 'ftps'];

export const DEFAULT_PORTS: Record<Protocol, number> = { ftp: 21, tftp: 69, http: 80, https: 443, ftps: 990 };

/**
 * How the phone speaks FTPS (Server Type 4). `explicit`: plain connection to port 21, then AUTH
 * TLS, PBSZ 0, PROT P (RFC 4217 §4, §8, §9), the standard form. `implicit`: TLS from the first
 * byte on port 990, which is what libcurl (the UCS transfer client, facts §2.4) does with an
 * `ftps://` URL. Default: `ftps://` in a URL means implicit, as libcurl reads it; Server Type FTPS
 * with an address that names no protocol means explicit. ServerMenu.ftpsMode overrides both.
 */
export type FtpsMode = 'explicit' | 'implicit';
export const FTPS_MODES: readonly FtpsMode[] = ['explicit', 'implicit'];
/** RFC 4217 §4: explicit FTPS starts on the ordinary FTP port. */
export const EXPLICIT_FTPS_PORT = 21;

/** SEED-AG, Setting Up the Boot Server: "Defaults are: provisioning protocol: FTP, name: PlcmSpIp, password: PlcmSpIp." */
export const FACTORY_USER = 'PlcmSpIp';
export const FACTORY_PASSWORD = 'PlcmSpIp';

export interface ServerAddress {
  protocol: Protocol;
  /** Host name or IP literal (IPv6 without brackets). */
  host: string;
  port: number;
  user: string;
  password: string;
  /** Directory on the server, relative, '' or ending in '/'. */
  directory: string;
  /** Specified master file ("must end with .cfg and be at least five characters long"). */
  masterFile?: string;
  /** FTPS only: explicit (AUTH TLS) or implicit (TLS from the first byte). */
  ftpsMode?: FtpsMode;
  /** The phone's FTPS mode setting (ServerMenu.ftpsMode) when one was given; passed on to ftps:// URLs in the master file. */
  ftpsModeSetting?: FtpsMode;
}

export interface ServerMenu {
  /** Server Type when the address names no protocol. */
  serverType?: Protocol;
  /** Server User / Server Password, used when the URL carries none. */
  user?: string;
  password?: string;
  /** FTPS mode for every FTPS address (the boot server and ftps:// URLs); default as FtpsMode says. */
  ftpsMode?: FtpsMode;
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

export function parseProtocol(s: string): Protocol | undefined {
  const v = s.trim().toLowerCase();
  if ((SERVER_TYPES as readonly string[]).includes(v)) return v as Protocol;
  if (/^[0-4]$/.test(v)) return SERVER_TYPES[Number(v)];
  return undefined;
}

function unescape1738(s: string, what: string, input: string): string {
  try {
    return decodeURIComponent(s);
  } catch (cause) {
    throw new ProvError('PP_USAGE', `boot server address "${redact(input)}": ${what} has a malformed %-escape (RFC 1738 §3.1)`, { cause });
  }
}

/** The address with its password replaced, for messages. */
export function redact(input: string): string {
  return input.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/@:]*:)[^/@]*@/, '$1***@');
}

/**
 * Parses a Server Menu address. Throws PP_USAGE when it is not one of the documented forms.
 * Path components keep their spelling ("Escape characters are not supported" in file URLs,
 * SEED-AG), so only the credentials are %-decoded.
 */
export function parseServerAddress(input: string, menu: ServerMenu = {}): ServerAddress {
  const raw = input.trim();
  if (raw === '') throw new ProvError('PP_USAGE', 'boot server address is empty');
  if (raw.includes('\\') || /\s/.test(raw)) {
    // SEED-AG: "A URL should contain forward slashes instead of back slashes and should not contain spaces."
    throw new ProvError('PP_USAGE', `boot server address "${redact(raw)}" contains a back slash or a space; phones accept neither`);
  }
  let rest = raw;
  let protocol: Protocol | undefined;
  const m = SCHEME.exec(raw);
  if (m) {
    protocol = parseProtocol(m[1]!);
    if (!protocol || /^[0-4]$/.test(m[1]!)) {
      throw new ProvError('PP_USAGE', `boot server address "${redact(raw)}": unsupported protocol "${m[1]}" (ftp, tftp, http, https, ftps)`);
    }
    rest = raw.slice(m[0].length);
  }
  protocol ??= menu.serverType ?? 'ftp';

  const slash = rest.indexOf('/');
  let authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1);

  let user: string | undefined;
  let password: string | undefined;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    if (!m) throw new ProvError('PP_USAGE', `boot server address "${redact(raw)}": credentials are only allowed in a URL (protocol://user:password@host/)`);
    const cred = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = cred.indexOf(':');
    user = unescape1738(colon < 0 ? cred : cred.slice(0, colon), 'user name', raw);
    if (colon >= 0) password = unescape1738(cred.slice(colon + 1), 'password', raw);
  }

  let host: string;
  let port: number | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(authority);
  if (v6) {
    host = v6[1]!;
    if (v6[2]) port = Number(v6[2]);
  } else {
    const hp = /^([^:]+)(?::(\d+))?$/.exec(authority);
    if (!hp) throw new ProvError('PP_USAGE', `boot server address "${redact(raw)}": cannot read a host${authority ? ` from "${authority}"` : ''}`);
    host = hp[1]!;
    if (hp[2]) port = Number(hp[2]);
  }
  if (!/^[A-Za-z0-9.:_-]+$/.test(host)) throw new ProvError('PP_USAGE', `boot server address "${redact(raw)}": "${host}" is not an IP address or domain name`);
  if (port !== undefined && (port < 1 || port > 65535)) throw new ProvError('PP_USAGE', `boot server address "${redact(raw)}": port ${port} is outside 1-65535`);

  // A trailing component ending in .cfg (>= 5 characters) is the specified master file.
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  let masterFile: string | undefined;
  if (parts.length > 0 && !path.endsWith('/') && isSpecifiedMasterName(parts[parts.length - 1]!)) masterFile = parts.pop();
  if (parts.includes('..')) throw new ProvError('PP_USAGE', `boot server address "${redact(raw)}": ".." is not allowed in the directory`);
  const directory = parts.length ? parts.join('/') + '/' : '';

  // Server User is ignored when the URL has a user name; Server Password when it has user and password.
  const finalUser = user ?? menu.user ?? FACTORY_USER;
  const finalPassword = password ?? menu.password ?? FACTORY_PASSWORD;

  if (protocol !== 'ftps') return { protocol, host, port: port ?? DEFAULT_PORTS[protocol], user: finalUser, password: finalPassword, directory, masterFile };
  const ftpsMode: FtpsMode = menu.ftpsMode ?? (m ? 'implicit' : 'explicit');
  return {
    protocol,
    host,
    port: port ?? (ftpsMode === 'explicit' ? EXPLICIT_FTPS_PORT : DEFAULT_PORTS.ftps),
    user: finalUser,
    password: finalPassword,
    directory,
    masterFile,
    ftpsMode,
    ...(menu.ftpsMode ? { ftpsModeSetting: menu.ftpsMode } : {}),
  };
}

/**
 * The address as a URL (credentials left out), for logs and the boot record. Explicit FTPS always
 * shows its port (ftps://host:21/), since a bare ftps:// reads as implicit port 990.
 */
export function formatServerAddress(a: ServerAddress, path = ''): string {
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  const port = a.port === DEFAULT_PORTS[a.protocol] && a.ftpsMode !== 'explicit' ? '' : `:${a.port}`;
  return `${a.protocol}://${host}${port}/${a.directory}${path}`;
}

/** Where a file lives: the server (address) and its path there (relative, no leading slash). */
export interface FileRef {
  server: ServerAddress;
  path: string;
  /** The name as the master file wrote it (for the cache and the record). */
  key: string;
}

/**
 * Resolves a file named by the master file: a full URL (CONFIG_FILES entries and XXX_DIRECTORY
 * values "may be located … on different servers using different protocols", white paper, Master
 * Configuration File) or a path relative to the boot server's directory.
 */
export function resolveFileRef(base: ServerAddress, name: string): FileRef {
  const n = name.trim();
  if (SCHEME.test(n)) {
    const slash = n.indexOf('/', n.indexOf('://') + 3);
    const file = slash < 0 ? '' : n.slice(slash + 1);
    const server = parseServerAddress(slash < 0 ? n : n.slice(0, slash) + '/', { user: base.user, password: base.password, ftpsMode: base.ftpsModeSetting });
    return { server, path: normalizeRelPath(file), key: n };
  }
  const rel = n.startsWith('/') ? normalizeRelPath(n) : normalizeRelPath(base.directory + n);
  return { server: base, path: rel, key: normalizeRelPath(n) };
}

/**
 * A directory attribute (LOG_FILE_DIRECTORY, OVERRIDES_DIRECTORY, …) joined with a file name.
 * Empty means "the root of the provisioning server path" (white paper, Master Configuration File).
 */
export function resolveInDirectory(base: ServerAddress, dir: string, file: string): FileRef {
  const d = dir.trim();
  if (d === '') return resolveFileRef(base, file);
  return resolveFileRef(base, d.endsWith('/') ? d + file : `${d}/${file}`);
}

const NOT_NORMAL = /(?:^|\/)\.?(?:\/|$)/;

export function normalizeRelPath(p: string): string {
  // Already normal (no empty or "." segment): the common case, returned as it is.
  if (!NOT_NORMAL.test(p)) return p;
  return p
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

export function sameServer(a: ServerAddress, b: ServerAddress): boolean {
  return a.protocol === b.protocol && a.host === b.host && a.port === b.port && a.user === b.user && a.password === b.password && a.ftpsMode === b.ftpsMode;
}
