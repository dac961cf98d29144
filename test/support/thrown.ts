// What a call threw, for tests that assert on ProvError codes: `thrown` fails the test when the call
// returns or throws something else; `codeOf` answers the code (or the thrown value's text, or
// undefined when nothing was thrown), for property tests that compare it.
import { isProvError, type ProvError } from '../../src/errors.ts';

export function thrown(fn: () => unknown): ProvError {
  try {
    fn();
  } catch (e) {
    if (isProvError(e)) return e;
    throw e;
  }
  throw new Error('did not throw');
}

export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isProvError(e) ? e.code : String(e);
  }
  return undefined;
}
