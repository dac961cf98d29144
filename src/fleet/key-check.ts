// The fleet's key check (issue 14, Secrets): a known value sealed with the secret key, kept in the
// store's settings (`fleet.keyCheck`), so a node given another key refuses to start instead of
// serving phones values it cannot open. Created on a fleet that has none; a key rotation stores the
// new key's check value first (`fleet.keyCheck.next`), so a start with the new key after a crash
// in the middle of `secrets rotate` finishes it.
import { ProvError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { settingAad, type SecretBox } from './secret-box.ts';
import type { FleetState } from './snapshot.ts';

/** The store setting holding the check value sealed with the fleet's key. */
export const KEY_CHECK_SETTING = 'fleet.keyCheck';
/** During a rotation: the new key's check value, so a rotation cut short can be finished at the next start. */
export const KEY_CHECK_NEXT_SETTING = 'fleet.keyCheck.next';
const MISMATCH = "the secret key cannot decrypt this store's check value; give every node the same key (POLYPROV_SECRET_KEY or secretKeyFile)";

function keyMismatch(extra = ''): ProvError {
  return new ProvError('PP_FLEET_KEY_MISMATCH', `${MISMATCH}${extra}`, { hint: 'Start every node with the key the fleet was sealed with; after `polyprov secrets rotate`, that is the new key.' });
}

/** The first sealed setting of the fleet, to prove a key really opens the stored values. */
function sealedSample(state: FleetState, box: SecretBox): boolean | undefined {
  for (const [key, m] of state.settings) {
    for (const s of m.values()) {
      if (!s.sealed) continue;
      try {
        box.open(s.value, settingAad(key, s.name));
        return true;
      } catch {
        return false;
      }
    }
  }
  return undefined;
}

/** Verifies the key against the store's check value, creating it on a fleet that has none. */
export async function checkKey(store: Store, box: SecretBox, state: FleetState): Promise<void> {
  const check = await store.settings.get(KEY_CHECK_SETTING);
  if (check !== undefined && box.verifyCheck(check)) {
    if (sealedSample(state, box) === false) throw keyMismatch(' (a key rotation re-sealed the values but did not finish: start with the new key)');
    return;
  }
  if (check === undefined) {
    if (sealedSample(state, box) === false) throw keyMismatch(' (the check value is missing and the key cannot open the sealed settings)');
    await store.settings.set(KEY_CHECK_SETTING, box.makeCheck());
    return;
  }
  // A rotation to this key cut short after its re-seal committed: finish it.
  const next = await store.settings.get(KEY_CHECK_NEXT_SETTING);
  if (next !== undefined && box.verifyCheck(next) && sealedSample(state, box) !== false) {
    await store.settings.set(KEY_CHECK_SETTING, next);
    await store.settings.set(KEY_CHECK_NEXT_SETTING, undefined);
    return;
  }
  throw keyMismatch();
}

