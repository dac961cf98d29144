// Placeholders for the store sections being built this stop (issue 14 fleet, issue 15 tokens and
// jobs): each method refuses with PP_INTERNAL until its backend lands. Deleted when they do.
import { ProvError } from '../errors.ts';
import type { Store } from './store.ts';

const no = (what: string) => async (): Promise<never> => {
  throw new ProvError('PP_INTERNAL', `${what} is not built in this store yet`);
};

export function notBuiltFleet(): Store['fleet'] {
  return { load: no('fleet.load'), generation: async () => 0, apply: no('fleet.apply') };
}
export function notBuiltTokens(): Store['tokens'] {
  return { put: no('tokens.put'), get: no('tokens.get'), byHash: no('tokens.byHash'), list: no('tokens.list'), remove: no('tokens.remove') };
}
export function notBuiltJobs(): Store['jobs'] {
  return { create: no('jobs.create'), get: no('jobs.get'), list: no('jobs.list'), updateTargets: no('jobs.updateTargets') };
}
