// Override policy: the administrator locks parameters by pattern (`reg.*`, `device.*`). An
// uploaded override that touches a locked parameter is stored exactly as received, but the
// copy served back to the phone has those keys removed (issue 4, "Override policy").
import { parseConfigFile } from '../config/config-file.ts';
import { writeConfigFile } from '../config/write-xml.ts';

export type LockMatcher = (name: string) => boolean;

/** Compiles glob patterns (`*` any run, `?` one character) into one regular expression at start-up. */
export function compileLocks(patterns: readonly string[]): LockMatcher | undefined {
  if (patterns.length === 0) return undefined;
  const alt = patterns.map((p) => p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')).join('|');
  const re = new RegExp(`^(?:${alt})$`, 'i');
  return (name) => re.test(name);
}

/** Names of locked parameters the override sets (empty when none, or when it is not plain XML). */
export function lockedKeys(body: Buffer, file: string, locked: LockMatcher): string[] {
  try {
    const cfg = parseConfigFile(body, file);
    if (cfg.kind !== 'xml') return [];
    return cfg.params.filter((p) => locked(p.name)).map((p) => p.name);
  } catch {
    return [];
  }
}

/** The override as served: locked keys removed. Unchanged bytes when nothing is locked. */
export function stripLocked(body: Buffer, file: string, locked: LockMatcher): { body: Buffer; stripped: string[] } {
  let cfg;
  try {
    cfg = parseConfigFile(body, file);
  } catch {
    return { body, stripped: [] }; // a broken override is served as is; the phone ignores it as it would
  }
  if (cfg.kind !== 'xml') return { body, stripped: [] };
  const stripped = cfg.params.filter((p) => locked(p.name)).map((p) => p.name);
  if (stripped.length === 0) return { body, stripped };
  const kept = cfg.params.filter((p) => !locked(p.name)).map((p) => ({ name: p.name, value: p.value }));
  return { body: Buffer.from(writeConfigFile(kept), 'utf8'), stripped };
}
