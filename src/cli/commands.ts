// The list of commands: one entry per command file, named as its command; keep alphabetical.
// Loaded on demand (issue 14 Scale: `polyprov fleet import` starts fast): main.ts loads only the
// command named on the command line, and every one for help or an unknown name.
import type { RegisterCommand } from './exit.ts';

export const COMMANDS: Record<string, () => Promise<RegisterCommand>> = {
  accounts: async () => (await import('./accounts.ts')).register,
  audit: async () => (await import('./audit.ts')).register,
  bench: async () => (await import('./bench.ts')).register,
  changes: async () => (await import('./changes.ts')).register,
  dhcp: async () => (await import('./dhcp.ts')).register,
  explain: async () => (await import('./explain.ts')).register,
  fleet: async () => (await import('./fleet.ts')).register,
  init: async () => (await import('./init.ts')).register,
  lint: async () => (await import('./lint.ts')).register,
  logs: async () => (await import('./logs.ts')).register,
  notify: async () => (await import('./notify.ts')).register,
  overrides: async () => (await import('./overrides.ts')).register,
  phone: async () => (await import('./phone.ts')).register,
  phones: async () => (await import('./phones.ts')).register,
  render: async () => (await import('./render.ts')).register,
  secrets: async () => (await import('./secrets.ts')).register,
  serve: async () => (await import('./serve.ts')).register,
  settings: async () => (await import('./settings.ts')).register,
  staging: async () => (await import('./staging.ts')).register,
  store: async () => (await import('./store.ts')).register,
  tokens: async () => (await import('./tokens.ts')).register,
};
