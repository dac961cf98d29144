// Exit codes shared by every command, so scripts can rely on them.
export const EXIT = {
  ok: 0,
  /** The command ran and found a problem (lint errors, a target that did not answer, …). */
  problem: 1,
  /** Usage error: unknown flag, bad argument. */
  usage: 2,
  /** Runtime failure: I/O error, server could not start. */
  runtime: 3,
} as const;

/** Each command file exports one of these; `setExit` records the command's exit status. */
export type RegisterCommand = (program: import('commander').Command, setExit: (code: number) => void) => void;
