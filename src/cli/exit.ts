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

/**
 * `polyprov lint … | head` (issue 13 item 18): when the reader closes the pipe, the rest of the output
 * has nowhere to go. Stop at once and quietly, exit 0 — the reader chose to stop reading — instead of
 * Node's unhandled `EPIPE` stack trace. Any other stream error is still thrown.
 */
export function endQuietlyWhenReaderCloses(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(EXIT.ok);
      throw err;
    });
  }
}
