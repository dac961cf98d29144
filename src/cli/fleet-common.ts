// Shared by the fleet's commands (fleet.ts, fleet-names.ts, settings.ts, render.ts): how a fleet
// refusal becomes exit 1, how a scope argument is read, and how managed values are shown (a
// secret never in clear: the service answers `{"set": true}`, effective values are masked here).
import { displayValue } from '../config/explain-json.ts';
import { DEFAULT_TENANT, type ManagedPhone, type Scope } from '../domain.ts';
import { isProvError, type ProvError } from '../errors.ts';
import { parseScope } from '../fleet/scope.ts';
import type { EffectiveSetting } from '../fleet/types.ts';
import { EXIT } from './exit.ts';
import { usage, withState, type StateFlags } from './state-store.ts';

/** A managed phone as JSON (dates ISO, absent fields left out). */
export function managedPhoneJson(p: ManagedPhone): Record<string, unknown> {
  return JSON.parse(JSON.stringify(p)) as Record<string, unknown>;
}

/** A settings value as shown: a secret is `{"set": true}` from the service, printed so. */
export function shownValue(v: string | { set: true }): string {
  return typeof v === 'string' ? v : '(secret, set)';
}

/** An effective setting with its secret masked (unless asked), for `fleet show` and explain. */
export function maskedEffective(e: EffectiveSetting, showSecrets = false): EffectiveSetting {
  const mask = (v: string) => (e.secret && !showSecrets ? '********' : displayValue(e.name, v, showSecrets));
  return { ...e, value: mask(e.value), shadowed: e.shadowed.map((s) => ({ scope: s.scope, value: mask(s.value) })) };
}

/** The fleet's refusals of what was asked (unknown parameter or tenant, a value out of range, a name in use …), not a failure to run. */
function isFleetRefusal(e: unknown): e is ProvError {
  return isProvError(e) && e.code.startsWith('PP_FLEET_') && e.code !== 'PP_FLEET_KEY_MISMATCH' && e.code !== 'PP_FLEET_KEY_MISSING';
}

/**
 * withState for a fleet command, with the fleet read first (the admin service reads it on first
 * use only: issue 16 leftover): a refusal by the fleet service is the command finding a problem
 * — printed with its fix, exit 1 — and the answer is undefined; anything else propagates (exit 3).
 */
export async function withFleet<T>(
  setExit: (code: number) => void,
  flags: StateFlags,
  fn: Parameters<typeof withState<T>>[1],
  o: Parameters<typeof withState<T>>[2] = {},
): Promise<T | undefined> {
  try {
    return await withState(
      flags,
      async (admin, opts) => {
        await admin.fleet.open();
        return fn(admin, opts);
      },
      o,
    );
  } catch (e) {
    if (!isFleetRefusal(e)) throw e;
    process.stderr.write(`polyprov: ${e.format()}\n`);
    setExit(EXIT.problem);
    return undefined;
  }
}

/** A scope argument: a malformed one is a usage error (exit 2). */
export function scopeArg(text: string, tenant: string = DEFAULT_TENANT): Scope {
  try {
    return parseScope(text, tenant);
  } catch (e) {
    if (isProvError(e) && e.code === 'PP_FLEET_SCOPE_INVALID') throw usage(e.message, e.hint);
    throw e;
  }
}
