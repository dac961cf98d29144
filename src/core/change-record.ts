// The change record's writer (issue 12, Administration through the core): every change the
// admin service makes is appended here with who made it, when, what (operation and target), and
// the old and new values — with secrets masked BEFORE they reach the store, so neither the
// record nor `polyprov changes` can ever show one.
import { userInfo } from 'node:os';
import { SECRET_MASK } from '../config/explain-json.ts';
import { maskUrlCredentials } from '../config/master-file.ts';
import { isSecretParam } from '../config/params.ts';
import type { ChangeQuery, ChangeRecord } from '../domain.ts';
import type { Store } from '../store/store.ts';

/** Field names that hold a secret whatever their value: passwords, HA1 hashes, keys, tokens. */
const SECRET_FIELD = /password|passwd|secret|ha1|token|privatekey|^pin$/i;

/**
 * A copy of `value` fit for the change record: secret fields and secret configuration
 * parameters (`reg.1.auth.password`, by the parameter catalogue) become the mask, and URL
 * credentials in strings are hidden, at any depth.
 */
export function maskSecrets(value: unknown, field?: string): unknown {
  if (field !== undefined && (SECRET_FIELD.test(field) || (field.includes('.') && isSecretParam(field)))) {
    return value === undefined || value === null || value === '' ? value : SECRET_MASK;
  }
  if (typeof value === 'string') return maskUrlCredentials(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    // A configuration parameter as {name, value}: the name says whether the value is secret.
    const named = typeof o.name === 'string' && 'value' in o ? o.name : undefined;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined) continue;
      out[k] = named !== undefined && k === 'value' ? maskSecrets(v, named) : maskSecrets(v, k);
    }
    return out;
  }
  return value;
}

/** Who runs this process: the OS user (the CLI's "who"). */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? `uid ${process.getuid?.() ?? '?'}`;
  }
}

export class ChangeRecorder {
  constructor(
    private readonly store: Store,
    /** The OS user for the CLI; an API token's name for the REST API. */
    readonly who: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async record(operation: string, target: string, old?: unknown, next?: unknown): Promise<ChangeRecord> {
    const c: ChangeRecord = { at: this.clock(), who: this.who, operation, target };
    if (old !== undefined) c.old = maskSecrets(old);
    if (next !== undefined) c.new = maskSecrets(next);
    await this.store.changes.append(c);
    return c;
  }

  /** Several changes, in order, written in one go (a fleet import's one change per row). */
  async recordAll(entries: ReadonlyArray<{ operation: string; target: string; old?: unknown; new?: unknown }>): Promise<ChangeRecord[]> {
    const out = entries.map((e) => {
      const c: ChangeRecord = { at: this.clock(), who: this.who, operation: e.operation, target: e.target };
      if (e.old !== undefined) c.old = maskSecrets(e.old);
      if (e.new !== undefined) c.new = maskSecrets(e.new);
      return c;
    });
    if (out.length > 0) await this.store.changes.appendMany(out);
    return out;
  }

  query(q: ChangeQuery): Promise<ChangeRecord[]> {
    return this.store.changes.query(q);
  }
}
