// Server options: one schema for the config file (JSON, `polyprov.json`) and the CLI flags
// merged over it. Validated once at the edge; the result is frozen and passed down typed, so
// the core never checks options again. Every default lives here, with its unit in its name.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ProvError } from './errors.ts';
import { nearest } from './util/nearest.ts';

export interface ServerOptions {
  /** The provisioning tree served to phones. */
  root: string;
  /** Where the embedded store and upload temp files live. */
  data: string;
  /** `sqlite` (embedded, under `data`) or a `postgres://` URL shared by several nodes. */
  storeUrl: string;
  /** Where the options came from (for messages). */
  configFile?: string;
  http?: string;
  https?: string;
  tftp?: string;
  ftp?: string;
  ftps?: string;
  /** Admin listener (Prometheus /metrics). */
  admin?: string;
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
  /** CIDRs allowed to talk to the boot server at all (empty: everyone). */
  allow: string[];
  /** CIDRs allowed to fetch files holding secrets over TFTP (which carries no credentials). */
  tftpSecretAllow: string[];
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
  ftpPassivePortMin: number;
  ftpPassivePortMax: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

type Kind = 'string' | 'number' | 'boolean' | 'string[]' | readonly string[];

interface Field {
  kind: Kind;
  default?: unknown;
  min?: number;
  max?: number;
  doc: string;
}

export const OPTION_SCHEMA: Record<keyof ServerOptions, Field> = {
  root: { kind: 'string', default: 'site', doc: 'provisioning tree served to phones' },
  data: { kind: 'string', default: 'polyprov-data', doc: 'state directory (embedded SQLite store)' },
  storeUrl: { kind: 'string', default: 'sqlite', doc: '`sqlite` or a postgres:// URL shared by several nodes' },
  configFile: { kind: 'string', doc: 'where these options came from' },
  http: { kind: 'string', doc: 'HTTP listener HOST:PORT' },
  https: { kind: 'string', doc: 'HTTPS listener HOST:PORT' },
  tftp: { kind: 'string', doc: 'TFTP listener HOST:PORT' },
  ftp: { kind: 'string', doc: 'FTP (explicit FTPS with a certificate) listener HOST:PORT' },
  ftps: { kind: 'string', doc: 'implicit FTPS listener HOST:PORT' },
  admin: { kind: 'string', doc: 'admin listener HOST:PORT (/metrics)' },
  cert: { kind: 'string', doc: 'TLS certificate (PEM)' },
  key: { kind: 'string', doc: 'TLS private key (PEM)' },
  clientCa: { kind: 'string', doc: 'CA bundle for client certificates (mutual TLS)' },
  tlsLegacy: { kind: 'boolean', default: false, doc: 'accept TLS 1.0/1.1 and legacy ciphers (old bootROMs)' },
  policy: { kind: ['open', 'accounts'], default: 'accounts', doc: 'access policy' },
  realm: { kind: 'string', default: 'polyprov', doc: 'HTTP authentication realm' },
  staging: { kind: 'boolean', default: false, doc: 'accept the factory PlcmSpIp account' },
  enrol: { kind: 'boolean', default: true, doc: 'issue per-phone credentials to staged phones' },
  lockedParams: { kind: 'string[]', default: [], doc: 'parameter patterns phones may not override' },
  allow: { kind: 'string[]', default: [], doc: 'CIDRs allowed to connect (empty: all)' },
  tftpSecretAllow: { kind: 'string[]', default: ['127.0.0.0/8', '::1/128'], doc: 'CIDRs that may read files holding secrets over TFTP' },
  rateLimitPerSec: { kind: 'number', default: 200, min: 1, max: 1e6, doc: 'requests per second per source address' },
  rateLimitBurst: { kind: 'number', default: 400, min: 1, max: 1e6, doc: 'burst per source address' },
  digestNonceTtlMs: { kind: 'number', default: 300_000, min: 1000, max: 86_400_000, doc: 'digest nonce lifetime' },
  httpHeaderTimeoutMs: { kind: 'number', default: 10_000, min: 100, max: 600_000, doc: 'time to receive request headers' },
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
  ftpPassivePortMin: { kind: 'number', default: 0, min: 0, max: 65535, doc: 'first passive port (0: any)' },
  ftpPassivePortMax: { kind: 'number', default: 0, min: 0, max: 65535, doc: 'last passive port (0: any)' },
  logLevel: { kind: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', doc: 'log level' },
};

export const DEFAULT_CONFIG_FILE = 'polyprov.json';

/** Adds `--data DIR` and `--config FILE`, the same on every command that touches server state. */
export function addStateOptions(cmd: Command): Command {
  return cmd
    .option('--data <dir>', `state directory (default: $POLYPROV_DATA, the config file's "data", or ./${String(OPTION_SCHEMA.data.default)})`)
    .option('--config <file>', `server options file (default: $POLYPROV_CONFIG, or ./${DEFAULT_CONFIG_FILE} when present)`);
}

/**
 * Builds the frozen ServerOptions: defaults, then the config file, then the environment,
 * then flags. `flags` uses ServerOptions keys (commander camel-cases `--client-ca` to clientCa).
 */
export function loadServerOptions(flags: Partial<Record<string, unknown>> & { config?: string }, env = process.env): Readonly<ServerOptions> {
  const merged: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(OPTION_SCHEMA)) if (f.default !== undefined) merged[k] = f.default;

  const explicit = flags.config ?? env.POLYPROV_CONFIG;
  const configFile = explicit ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (configFile) {
    let text: string;
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (err) {
      throw new ProvError('PP_OPT_INVALID', `cannot read options file: ${(err as Error).message}`, { file: configFile, cause: err });
    }
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      throw new ProvError('PP_OPT_INVALID', `not valid JSON: ${(err as Error).message}`, { file: configFile, hint: 'The options file is JSON: {"root": "site", "http": "0.0.0.0:80"}.' });
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new ProvError('PP_OPT_INVALID', 'the options file must hold one JSON object', { file: configFile });
    for (const [k, v] of Object.entries(obj)) merged[k] = checkField(k, v, configFile);
    // Paths in the file are relative to the file, as a person writing it expects.
    for (const k of ['root', 'data', 'cert', 'key', 'clientCa'] as const) {
      if (typeof merged[k] === 'string' && k in (obj as object)) merged[k] = resolve(configFile, '..', merged[k] as string);
    }
    merged.configFile = configFile;
  }
  if (env.POLYPROV_DATA && flags.data === undefined) merged.data = env.POLYPROV_DATA;
  for (const [k, v] of Object.entries(flags)) {
    if (k === 'config' || v === undefined) continue;
    if (!(k in OPTION_SCHEMA)) continue; // command-specific flags (json, mac, …) are not server options
    merged[k] = checkField(k, v, 'command line');
  }
  return Object.freeze(merged as unknown as ServerOptions);
}

function checkField(key: string, value: unknown, where: string): unknown {
  const f = (OPTION_SCHEMA as Record<string, Field>)[key];
  if (!f) {
    const near = nearest(key, Object.keys(OPTION_SCHEMA));
    throw new ProvError('PP_OPT_UNKNOWN', `${where}: unknown option "${key}"${near ? `; did you mean "${near}"?` : ''}`, { file: where === 'command line' ? undefined : where });
  }
  const bad = (what: string) => new ProvError('PP_OPT_INVALID', `${where}: ${key} ${JSON.stringify(value)} ${what}`, { hint: f.doc });
  if (Array.isArray(f.kind)) {
    if (typeof value !== 'string' || !f.kind.includes(value)) throw bad(`is not one of ${f.kind.join(', ')}`);
    return value;
  }
  switch (f.kind) {
    case 'string':
      if (typeof value !== 'string') throw bad('is not a string');
      return value;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1' || value === 'on') return true;
      if (value === 'false' || value === '0' || value === 'off') return false;
      throw bad('is not a boolean');
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(n)) throw bad('is not a number');
      if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) throw bad(`is outside ${f.min}–${f.max}`);
      return n;
    }
    case 'string[]':
      if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter(Boolean);
      if (!Array.isArray(value) || value.some((s) => typeof s !== 'string')) throw bad('is not a list of strings');
      return value;
  }
  return value;
}

/** Parses `HOST:PORT`, `[v6]:PORT` or `:PORT`. */
export function parseHostPort(s: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ProvError('PP_OPT_INVALID', `${what} "${s}" is not HOST:PORT`, { hint: `Write it as 0.0.0.0:80 or 127.0.0.1:8080.` });
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
