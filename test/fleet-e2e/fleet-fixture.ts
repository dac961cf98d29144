// The managed fleet's end-to-end fixture (issue 14 "Tests"): a small tree whose master lists
// managed/[PHONE_MAC_ADDRESS].cfg first (issue 14 Serving), fleets put in place with the real
// `polyprov fleet` / `settings` commands, and the virtual phone (src/phone/boot.ts) booted against a
// URL with the resolver on, so a test reads both the masked record (`effective`) and the clear
// values the phone ended with (`resolution.params`).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { bootPhone } from '../../src/phone/boot.ts';
import type { BootRecord } from '../../src/phone/boot-types.ts';
import { clientFactory } from '../../src/phone/clients.ts';
import { makeImage } from '../../src/phone/image-header.ts';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { MemoryState } from '../../src/phone/state.ts';
import { runCli } from '../phone/serve-child.ts';

export const MASTER =
  '<?xml version="1.0" standalone="yes"?>\n<!-- white paper, Master Configuration File; issue 14: the managed file first in CONFIG_FILES -->\n' +
  '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="managed/[PHONE_MAC_ADDRESS].cfg, site.cfg" MISC_FILES="" ' +
  'LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides" CONTACTS_DIRECTORY="contacts" LICENSE_DIRECTORY=""/>\n';

export const SITE = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<polycomConfig>\n  <tcpIpApp tcpIpApp.sntp.address="site.ntp.example.com"/>\n  <reg reg.1.label="site label"/>\n  <httpd httpd.cfg.enabled="0"/>\n</polycomConfig>\n';

/** The tree every fleet test serves: master, site.cfg, an image; no per-phone file at all. */
export async function writeManagedTree(root: string): Promise<void> {
  for (const d of ['logs', 'overrides', 'contacts']) await mkdir(join(root, d), { recursive: true });
  await writeFile(join(root, '000000000000.cfg'), MASTER);
  await writeFile(join(root, 'site.cfg'), SITE);
  await writeFile(join(root, 'sip.ld'), makeImage('4.0.15.1009', 4096));
}

/** `polyprov ARGS --data DATA`, failing the test with its stderr on a non-zero exit. */
export async function cli(data: string, args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const r = await runCli([...args, '--data', data], input, 60_000);
  expect(r.code, `polyprov ${args.join(' ')}\n${r.stderr}\n${r.stdout}`).toBe(0);
  return r;
}

/** The virtual phone's full boot against `url` (no log uploads: a plain static server takes none). */
export async function boot(url: string, mac: Mac, opts: { bootromHttpPort?: number; uploadLogs?: boolean } = {}): Promise<BootRecord> {
  return bootPhone({
    server: parseServerAddress(url),
    profile: { mac, model: 'VVX410', bootromVersion: '5.0.0.0001', appVersion: '3.3.0.0000' },
    state: new MemoryState(),
    settings: { tries: 1, retryWaitSec: 0, uploadLogs: opts.uploadLogs ?? false, computeEffective: true, ...(opts.bootromHttpPort ? { bootromHttpPort: opts.bootromHttpPort } : {}) },
    env: { makeClient: clientFactory({ timeoutMs: 5000, rejectUnauthorized: false }) },
  });
}

/** The clear value the phone ended with for `name` (resolution.params; the record's `effective` masks secrets). */
export function clearValue(rec: BootRecord, name: string): string | undefined {
  return rec.resolution?.params.get(name)?.value;
}

/** Every parameter the phone ended with, clear, as name → value (for comparing two boots). */
export function clearParams(rec: BootRecord): Record<string, string> {
  return Object.fromEntries([...(rec.resolution?.params ?? new Map())].map(([k, v]) => [k, v.value]).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** RFC 4180 field. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
