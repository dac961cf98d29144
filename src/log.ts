// One pino logger for the process; listeners and sessions take child loggers with their
// bindings serialised once. Redaction is the second net behind never logging secrets at all.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination: NodeJS.WritableStream | number = 2): Logger {
  return pino(
    {
      level,
      base: { app: 'polyprov' },
      redact: { paths: ['req.headers.authorization', '*.password', '*.authorization', 'password', 'credentials'], censor: '[secret]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    typeof destination === 'number' ? pino.destination({ fd: destination, sync: false }) : destination,
  );
}

/** A value that must never be printed: toString/toJSON/inspect all hide it. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[secret]';
  }
  toJSON(): string {
    return '[secret]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[secret]';
  }
}
