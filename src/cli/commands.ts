// The list of commands. One line per command file; keep alphabetical.
import type { RegisterCommand } from './exit.ts';

export const COMMANDS: RegisterCommand[] = [];
