// The list of commands: one import and one array entry per command file; keep alphabetical.
import type { RegisterCommand } from './exit.ts';
import { register as explain } from './explain.ts';
import { register as serve } from './serve.ts';

export const COMMANDS: RegisterCommand[] = [explain, serve];
