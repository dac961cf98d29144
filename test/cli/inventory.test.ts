// `polyprov phones`, `polyprov phone show MAC` and `polyprov audit`, run as child processes
// against a --data directory seeded through the store (issue 4, Inventory and audit).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { openStore } from '../../src/store/open.ts';
import type { AuditEvent, Sighting } from '../../src/store/store.ts';
import { polyprov } from './run-cli.ts';

const MAC1 = '0004f2000001' as Mac;
const MAC2 = '0004f2000002' as Mac;
const MAC3 = '64167f000003' as Mac;
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const at = (sec: number) => new Date(T0 + sec * 1000);
const UA_BOOT = 'FileTransport PolycomSoundPointIP-SPIP_650-UA/4.0.0.0155';
const UA_APP = 'FileTransport PolycomSoundPointIP-SPIP_650-UA/3.1.3.0439 Type/Application';

let dir: string;
let data: string;

/** Two boots of MAC1 (each a bootROM stage then an application stage), plus two other phones. */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'polyprov-cli-inventory-'));
  data = join(dir, 'data');
  const store = await openStore({ data, storeUrl: 'sqlite' });
  const sightings: Sighting[] = [];
  const events: AuditEvent[] = [];
  const req = (sec: number, path: string, o: Partial<Sighting> = {}, op: 'read' | 'write' = 'read', status = '200') => {
    sightings.push({ mac: MAC1, at: at(sec), source: 'http', address: '192.0.2.10', model: 'SPIP650', partNumber: '2345-12600-001', file: { path, op, status }, ...o });
    events.push({ at: at(sec), mac: MAC1, address: '192.0.2.10', transport: 'http', op, path, status, bytes: 1000 + sec, durationMs: 12 });
  };
  for (const base of [0, 3600]) {
    req(base, '0004f2000001.cfg', { bootStart: true, stage: 'bootrom', bootromVersion: '4.0.0.0155', userAgent: UA_BOOT });
    req(base + 1, '2345-12600-001.sip.ld', { stage: 'bootrom', bootromVersion: '4.0.0.0155' }, 'read', '206');
    req(base + 2, 'logs/0004f2000001-boot.log', { stage: 'bootrom' }, 'write', '201');
    req(base + 60, '0004f2000001.cfg', { bootStart: true, stage: 'application', appVersion: '3.1.3.0439', userAgent: UA_APP });
    req(base + 61, 'sip.cfg', { stage: 'application', appVersion: '3.1.3.0439' });
    req(base + 62, 'overrides/0004f2000001-phone.cfg', { stage: 'application', error: 'PP_AUTH_FAILED overrides/0004f2000001-phone.cfg' }, 'read', '401');
  }
  sightings.push({ mac: MAC2, at: at(10), source: 'tftp', address: '192.0.2.11', model: 'VVX400' });
  sightings.push({ mac: MAC3, at: at(20), source: 'dhcp', address: '192.0.2.12', model: 'VVX411', appVersion: '5.9.0.9373', bootromVersion: '5.9.0.9373', stage: 'application' });
  events.push({ at: at(10), mac: MAC2, address: '192.0.2.11', transport: 'tftp', op: 'read', path: '000000000000.cfg', status: 'tftp:ok', bytes: 500, durationMs: 3 });
  events.push({ at: at(11), address: '198.51.100.7', transport: 'http', op: 'read', path: '../etc/passwd', status: '400', bytes: 0, durationMs: 0, code: 'PP_PATH_HOSTILE' });
  await store.phones.recordSightings(sightings);
  await store.audit.append(events);
  await store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('polyprov phones (issue 4, Inventory)', () => {
  test('--json lists every phone with stage-aware versions, counters, last boot and last error', async () => {
    const r = await polyprov(['phones', '--json', '--data', data]);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(list.map((p) => p.mac)).toEqual([MAC1, MAC2, MAC3]);
    expect(list[0]).toMatchObject({
      mac: MAC1, model: 'SPIP650', partNumber: '2345-12600-001', appVersion: '3.1.3.0439', bootromVersion: '4.0.0.0155',
      address: '192.0.2.10', firstSeen: at(0).toISOString(), lastSeen: at(3662).toISOString(), lastBoot: at(3660).toISOString(),
      fetchedCount: 8, uploadedCount: 2, // per boot: master twice, sip.ld (206), sip.cfg; the 401 is not a fetch lastError: 'PP_AUTH_FAILED overrides/0004f2000001-phone.cfg', overrideLocked: false,
    });
  });

  test('--mac-prefix filters (any case, with separators); the text table has one row per phone', async () => {
    const r = await polyprov(['phones', '--mac-prefix', '00:04:F2', '--json', '--data', data]);
    expect((JSON.parse(r.stdout) as Array<{ mac: string }>).map((p) => p.mac)).toEqual([MAC1, MAC2]);
    const t = await polyprov(['phones', '--data', data]);
    expect(t.code).toBe(0);
    const lines = t.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^MAC\s+MODEL\s+PART\s+APP\s+BOOTROM\s+ADDRESS\s+FIRST SEEN\s+LAST SEEN\s+LAST BOOT\s+FETCHED\s+UPLOADED/);
    expect(lines.length).toBe(4);
    expect(lines[1]).toMatch(/^0004f2000001\s+SPIP650\s+2345-12600-001\s+3\.1\.3\.0439\s+4\.0\.0\.0155\s+192\.0\.2\.10\s+2026-01-05T08:00:00Z/);
    expect((await polyprov(['phones', '--mac-prefix', 'zz', '--data', data])).code).toBe(2);
  });
});

describe('polyprov phone show (issue 4: "the timeline of its last boots")', () => {
  test('--json gives the inventory row and each boot with the requests up to the next boot, newest first', async () => {
    const r = await polyprov(['phone', 'show', '00-04-F2-00-00-01', '--json', '--data', data]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { phone: Record<string, unknown>; boots: Array<{ at: string; stage: string; version: string; userAgent: string; requests: Array<{ path: string; at: string }> }> };
    expect(j.phone).toMatchObject({ mac: MAC1, appVersion: '3.1.3.0439', bootromVersion: '4.0.0.0155' });
    expect(j.boots.map((b) => [b.at, b.stage, b.version])).toEqual([
      [at(3660).toISOString(), 'application', '3.1.3.0439'],
      [at(3600).toISOString(), 'bootrom', '4.0.0.0155'],
      [at(60).toISOString(), 'application', '3.1.3.0439'],
      [at(0).toISOString(), 'bootrom', '4.0.0.0155'],
    ]);
    expect(j.boots[1]!.userAgent).toBe(UA_BOOT);
    expect(j.boots[1]!.requests.map((e) => e.path)).toEqual(['0004f2000001.cfg', '2345-12600-001.sip.ld', 'logs/0004f2000001-boot.log']);
    expect(j.boots[0]!.requests.map((e) => e.path)).toEqual(['0004f2000001.cfg', 'sip.cfg', 'overrides/0004f2000001-phone.cfg']);
    // Only this phone's transfers.
    expect(j.boots.flatMap((b) => b.requests).every((e) => (e as unknown as { mac: string }).mac === MAC1)).toBe(true);
  });

  test('--boots bounds the timeline; the text form shows each boot and its requests', async () => {
    const r = await polyprov(['phone', 'show', MAC1, '--boots', '2', '--json', '--data', data]);
    expect((JSON.parse(r.stdout) as { boots: unknown[] }).boots.length).toBe(2);
    const t = await polyprov(['phone', 'show', MAC1, '--data', data]);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('BootROM/Updater:  4.0.0.0155');
    expect(t.stdout).toMatch(/2026-01-05T09:00:00Z\s+bootrom 4\.0\.0\.0155 via http from 192\.0\.2\.10/);
    expect(t.stdout).toMatch(/\+1\.000s\s+http read 2345-12600-001\.sip\.ld 206/);
  });

  test('an unseen phone exits 1; a malformed MAC exits 2', async () => {
    expect((await polyprov(['phone', 'show', '0004f2ffffff', '--data', data])).code).toBe(1);
    expect((await polyprov(['phone', 'show', 'not-a-mac', '--data', data])).code).toBe(2);
  });
});

describe('polyprov audit (issue 4: "one record per transfer … queryable from the CLI")', () => {
  test('--json returns records newest first; --limit bounds them', async () => {
    const r = await polyprov(['audit', '--json', '--limit', '3', '--data', data]);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Array<{ at: string; path: string }>;
    expect(list.map((e) => e.at)).toEqual([at(3662), at(3661), at(3660)].map((d) => d.toISOString()));
  });

  test('--mac and --since filter; the text table lists the hostile request with its code', async () => {
    const m = JSON.parse((await polyprov(['audit', '--mac', '00:04:f2:00:00:02', '--json', '--data', data])).stdout) as Array<{ path: string }>;
    expect(m.map((e) => e.path)).toEqual(['000000000000.cfg']);
    const s = JSON.parse((await polyprov(['audit', '--since', '2026-01-05T09:00:00Z', '--json', '--data', data])).stdout) as unknown[];
    expect(s.length).toBe(6);
    const t = await polyprov(['audit', '--data', data]);
    expect(t.stdout).toMatch(/^TIME\s+MAC\s+ADDRESS\s+TRANSPORT\s+OP\s+PATH\s+STATUS\s+BYTES/);
    expect(t.stdout).toMatch(/198\.51\.100\.7\s+http\s+read\s+\.\.\/etc\/passwd\s+400\s+0\s+0\s+-\s+PP_PATH_HOSTILE/);
  });

  test('bad --since, --limit or --mac exit 2', async () => {
    for (const args of [['--since', 'yesterday'], ['--limit', '0'], ['--limit', 'x'], ['--mac', 'zz']]) {
      expect((await polyprov(['audit', ...args, '--data', data])).code, args.join(' ')).toBe(2);
    }
  });
});
