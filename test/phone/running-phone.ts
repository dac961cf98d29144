// A `phone run` VirtualPhone against a recording server, as the check-sync tests use it: one
// try, no retry wait, SIP on a free loopback port. Both are closed by the caller's closers.
import type { Mac } from '../../src/config/types.ts';
import { clientFactory } from '../../src/phone/clients.ts';
import { VirtualPhone, type RunInput } from '../../src/phone/run.ts';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { MemoryState } from '../../src/phone/state.ts';
import { startRecordingServer, type RecordingServer } from './recording-server.ts';

export async function startRunningPhone(
  mac: Mac,
  files: Record<string, string | Buffer>,
  closers: Array<() => Promise<void>>,
  extra: Partial<RunInput> = {},
): Promise<{ s: RecordingServer; phone: VirtualPhone }> {
  const s = await startRecordingServer(files);
  closers.push(() => s.close());
  const phone = new VirtualPhone({
    server: parseServerAddress(s.url),
    profile: { mac, model: 'VVX410', bootromVersion: '5.0.0.0001', appVersion: '3.3.0.0000' },
    state: new MemoryState(),
    settings: { tries: 1, retryWaitSec: 0 },
    makeClient: clientFactory({ timeoutMs: 2000 }),
    sip: '127.0.0.1:0',
    ...extra,
  });
  await phone.start();
  closers.push(() => phone.stop());
  return { s, phone };
}

/** Polls `f` every 20 ms until it gives a value; fails after `ms` (bounded, as every test wait). */
export async function until<T>(f: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
