// Which worker of `serve --workers N` this process is (issue 16, One machine, every core). The
// primary (src/cluster/primary.ts) sets POLYPROV_WORKER_SLOT and POLYPROV_WORKER_COUNT when it forks a
// worker; absent them this is the one process of `--workers 1`, the tests or the CLI.

export interface WorkerRole {
  /** 0 … count-1; a restarted worker keeps its slot. */
  slot: number;
  /** Worker processes behind the same listeners. */
  count: number;
}

export const WORKER_SLOT_ENV = 'POLYPROV_WORKER_SLOT';
export const WORKER_COUNT_ENV = 'POLYPROV_WORKER_COUNT';

export function workerRole(env: Readonly<Record<string, string | undefined>> = process.env): WorkerRole | undefined {
  const slot = Number(env[WORKER_SLOT_ENV]);
  const count = Number(env[WORKER_COUNT_ENV]);
  if (!Number.isInteger(slot) || !Number.isInteger(count) || env[WORKER_SLOT_ENV] === undefined || count < 1 || slot < 0 || slot >= count) return undefined;
  return { slot, count };
}
