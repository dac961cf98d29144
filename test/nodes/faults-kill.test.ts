// Issue 16, Behaviour under faults: "Three nodes on three loopback addresses; virtual phones given
// all three as one server name's addresses (the documents' redundant boot servers, each address
// tried in turn). SIGKILL one node in the middle of a … boot storm: every phone completes its
// boot, no upload is lost or half-written, the inventory and audit count every request at most
// once (the killed node's unflushed audit batch … is the only loss allowed; report it)."
// Three `serve --workers 1` nodes on 127.0.0.1/.2/.3, one port, one fresh schema of the machine's
// PostgreSQL; POLYPROV_TEST_STORM_PHONES phones (default 300), each restarting with a local
// override edit to upload (File Transmit Tries 3, Retry Wait 1 s: SEED-AG, Server Menu); node 2
// is SIGKILLed once a third of the phones have booted. The loss is counted twice: before node 2
// comes back, and after it restarted on its data directory and replayed its audit journal
// (src/core/audit-journal.ts), when only its last ~25 ms of unsealed records may be missing.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AUDIT_SPOOL_DIR } from '../../src/core/audit.ts';
import { readJournal } from '../../src/core/audit-journal.ts';
import { phoneSourceAddress } from '../../src/phone/storm-tree.ts';
import type { ServeChild } from '../phone/serve-child.ts';
import { bootComplete, bootPhones, HOSTS, currentOverrides, journalsIn, makePhones, orderFor, retryProblems, startNodeAt, startStormNodes, STORM_PHONES, TEST_MS, wasAnswered, wholeVersion, withPg } from './faults-support.ts';
import { isSuccessStatus } from '../../src/store/fold-sighting.ts';
import { makeSite, pgUnreachable, sleep, within, type Site } from './nodes-support.ts';

const PG_DOWN = await pgUnreachable();
if (PG_DOWN) process.stderr.write(`[nodes/faults-kill] skipped: the machine's PostgreSQL is not reachable (${PG_DOWN}); package postgresql\n`);

const pathOf = (url: string) => decodeURIComponent(new URL(url).pathname).replace(/^\/+/, '');

describe.skipIf(PG_DOWN !== undefined)('issue 16, Behaviour under faults: SIGKILL one of three nodes mid-storm', () => {
  let site: Site;
  const nodes: ServeChild[] = [];
  let port: number;

  beforeAll(async () => {
    site = makeSite();
    port = await startStormNodes(site, nodes);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await site?.cleanup();
  });

  test('issue 16 Behaviour under faults: every phone boots, every upload whole, audit and inventory count each request at most once', async () => {
    const phones = makePhones(STORM_PHONES);
    const victim = nodes[1]!;
    let killedAt = 0;
    const t0 = Date.now();
    const bootMs: number[] = [];
    await bootPhones(phones, {
      hosts: HOSTS,
      port,
      auth: 'site:site-pass',
      concurrency: 30,
      onBooted: (done) => {
        bootMs.push(Date.now() - t0);
        if (!killedAt && done >= Math.floor(phones.length / 3)) {
          victim.child.kill('SIGKILL');
          killedAt = Date.now();
        }
      },
    });
    const stormMs = Date.now() - t0;
    expect(killedAt).toBeGreaterThan(0);
    await new Promise<void>((r) => (victim.child.exitCode !== null || victim.child.signalCode !== null ? r() : victim.child.once('exit', () => r())));
    expect(victim.child.signalCode).toBe('SIGKILL');

    // Every phone completed its boot (its last boot; the documented retries did the failing over).
    const incomplete = phones.filter((p) => !bootComplete(p.records.at(-1)!));
    expect(incomplete.map((p) => `${p.mac}: ${p.records.at(-1)!.messages.slice(-2).join(' / ')}`)).toEqual([]);
    // Failing over went as the documents say: each file to the addresses in turn, tries 1..3.
    expect(phones.flatMap((p) => retryProblems(p.records[0]!, orderFor(p.i))).slice(0, 10)).toEqual([]);
    const failedOver = phones.filter((p) => p.records[0]!.requests.some((r) => r.address === HOSTS[1] && r.status === 'error')).length;

    // The survivors flush their audit on SIGTERM; what the store holds is final after that.
    await Promise.all([nodes[0]!.stop(), nodes[2]!.stop()]);
    for (const n of [nodes[0]!, nodes[2]!]) expect(n.child.signalCode ?? n.child.exitCode, n.output().slice(-2000)).not.toBe(null);

    // No upload lost or half-written: each phone's current override is its own body, whole.
    const stored = await currentOverrides(site.storeUrl);
    const bad = phones.filter((p) => {
      const v = stored.get(p.mac);
      return !v || !wholeVersion(v) || !v.content.equals(p.body);
    });
    expect(bad.map((p) => p.mac)).toEqual([]);
    const twice = [...stored.values()].filter((v) => v.versions > 1).length;

    // The phones' own request logs: every answered request, by (mac, method, path), and by node.
    const answered = new Map<string, number>();
    const answeredByKilled = new Map<string, number>();
    let sent = 0;
    for (const p of phones)
      for (const rec of p.records)
        for (const r of rec.requests) {
          sent++;
          if (!wasAnswered(r)) continue; // no answer (refused, reset, timeout)
          const key = `${p.mac} ${r.method} ${pathOf(r.url)}`;
          answered.set(key, (answered.get(key) ?? 0) + 1);
          if (r.address === HOSTS[1]) answeredByKilled.set(key, (answeredByKilled.get(key) ?? 0) + 1);
        }
    /**
     * The store against the phones' logs: at most once, always (asserted); what the killed node's
     * loss is and how far back before the kill it reaches.
     */
    const measure = async (when: string) => {
      const macs = new Set(phones.map((p) => p.mac as string));
      const { audit, inventory, byMac, sample } = await withPg(site.storeUrl, async (c) => {
        const a = await c.query(`SELECT address, op, path, count(*)::int AS n FROM audit WHERE status <> 'PP_AUTH_REQUIRED' GROUP BY address, op, path`);
        const s = await c.query(`SELECT op, status, count(*)::int AS n FROM audit GROUP BY op, status ORDER BY op, status`);
        const inv = await c.query(`SELECT mac, fetched_count::int AS f, uploaded_count::int AS u FROM phones`);
        // What the inventory should count: a sighting goes with its audit row, or later (held).
        const m = await c.query(`SELECT mac, op, status, count(*)::int AS n FROM audit WHERE mac IS NOT NULL AND code IS NULL GROUP BY mac, op, status`);
        return {
          audit: a.rows as Array<{ address: string; op: string; path: string; n: number }>,
          inventory: inv.rows as Array<{ mac: string; f: number; u: number }>,
          byMac: m.rows as Array<{ mac: string; op: string; status: string; n: number }>,
          sample: s.rows,
        };
      });
      process.stderr.write(`[nodes/faults-kill] ${when}: audit by op and status ${JSON.stringify(sample)}\n`);
      const audited = new Map<string, number>();
      // Keyed by the phone's own source address: a node that has not seen a phone's MAC yet (one it
      // failed over to in the middle of its boot) records its requests without one.
      const macOf = new Map(phones.map((p) => [phoneSourceAddress(p.i), p.mac as string]));
      for (const row of audit) {
        const mac = macOf.get(row.address);
        if (!mac) continue;
        const method = /put|write|upload/i.test(row.op) ? 'PUT' : 'GET';
        const key = `${mac} ${method} ${row.path.replace(/^\/+/, '')}`;
        audited.set(key, (audited.get(key) ?? 0) + row.n);
      }
      // At most once: never more audit records than the phone made answered requests.
      const over = [...audited].filter(([k, n]) => n > (answered.get(k) ?? 0));
      expect(over.slice(0, 10)).toEqual([]);
      // The only loss: requests the killed node answered.
      let lost = 0;
      const lostMacs = new Set<string>();
      const lostElsewhere: string[] = [];
      for (const [k, n] of answered) {
        const missing = n - (audited.get(k) ?? 0);
        if (missing <= 0) continue;
        lost += missing;
        lostMacs.add(k.split(' ')[0]!);
        if (missing > (answeredByKilled.get(k) ?? 0)) lostElsewhere.push(k);
      }
      expect(lostElsewhere.slice(0, 10)).toEqual([]);
      // How far back the loss reaches, request by request: a lost (phone, request) is the newest of
      // that phone's answers to it from the killed node, timed when the phone got the answer (just
      // after the node queued its audit row).
      const phoneOf = new Map(phones.map((p) => [p.mac as string, p]));
      const killedTimes = (mac: string, key?: string) =>
        phoneOf
          .get(mac)!
          .timeline.filter((e) => e.address === HOSTS[1] && e.answered && (key === undefined || e.key === key))
          .map((e) => e.at)
          .sort((a, b) => b - a);
      const lostAt: number[] = [];
      for (const [k, n] of answered) {
        const missing = n - (audited.get(k) ?? 0);
        if (missing <= 0) continue;
        const [mac, ...rest] = k.split(' ');
        lostAt.push(...killedTimes(mac!, rest.join(' ')).slice(0, missing));
      }
      const killedAnswers = phones.flatMap((p) => killedTimes(p.mac)).sort((a, b) => b - a);
      expect(killedAnswers.every((at) => at <= killedAt + 50)).toBe(true);
      expect(lostAt.length, 'every lost audit record is one of the killed node\'s answers').toBe(lost);
      // An answer that reached its phone after the kill was sent before it: counted as 0 ms.
      const lossReachesMs = lost === 0 ? 0 : Math.max(0, killedAt - Math.min(...lostAt));
      const inLast = (ms: number) => killedAnswers.filter((at) => at > killedAt - ms).length;
      const lostIn = (from: number, to: number) => lostAt.filter((at) => killedAt - at >= from && killedAt - at < to).length;
      // The unflushed batch: the recorder starts a record's write within 100 ms less twice a write's
      // time (issue 16: "at most its last 100 ms"; src/core/audit.ts), so the killed node loses what
      // came since the start of the write under way — within 100 ms while a write takes under 50 ms,
      // two writes' time when the store is slower (0.5 s writes on this 2-core machine under other
      // load). Asserted loosely: every lost record is from the killed node's last 2 s (a write loop
      // that falls behind fails: a chain of writes reached 15.5 s), and its earlier answers were
      // audited — the loss is its tail, not all it did. The figures are in the report line.
      expect(lossReachesMs, `lost ${lost} audit records reaching back ${lossReachesMs} ms`).toBeLessThan(2000);
      expect(lost, `lost ${lost} of the killed node's ${killedAnswers.length} answers`).toBeLessThan(killedAnswers.length);

      // Inventory: per phone, no more fetches and uploads counted than the phone made with an answer.
      const perPhone = new Map<string, { f: number; u: number }>();
      for (const [k, n] of answered) {
        const [mac, method] = k.split(' ') as [string, string];
        const e = perPhone.get(mac) ?? { f: 0, u: 0 };
        if (method === 'PUT') e.u += n;
        else e.f += n;
        perPhone.set(mac, e);
      }
      const inv = inventory.filter((r) => macs.has(r.mac));
      // A phone is missing only when the requests that named its MAC were in the killed node's lost
      // batch (a node that failed it over knew it by its address alone: requests without a MAC).
      const inInventory = new Set(inv.map((r) => r.mac));
      const notSeen = phones.filter((p) => !inInventory.has(p.mac)).map((p) => p.mac as string);
      expect(notSeen.filter((mac) => !lostMacs.has(mac))).toEqual([]);
      expect(inv.filter((r) => r.f > (perPhone.get(r.mac)?.f ?? 0) || r.u > (perPhone.get(r.mac)?.u ?? 0))).toEqual([]);
      // Inventory against the stored audit: each counted fetch/upload has its audit row (never more),
      // and what it lacks is sightings the killed node held (src/core/sighting-hold.ts) or queued.
      const want = new Map<string, { f: number; u: number }>();
      for (const r of byMac) {
        if (!isSuccessStatus(r.status)) continue;
        const e = want.get(r.mac) ?? { f: 0, u: 0 };
        if (r.op === 'read' || r.op === 'stat' || r.op === 'list') e.f += r.n;
        else e.u += r.n;
        want.set(r.mac, e);
      }
      const invOf = new Map(inv.map((r) => [r.mac, r]));
      expect(inv.filter((r) => r.f > (want.get(r.mac)?.f ?? 0) || r.u > (want.get(r.mac)?.u ?? 0))).toEqual([]);
      let invLost = 0;
      const invLostAt: number[] = [];
      for (const p of phones) {
        const w = want.get(p.mac);
        const have = invOf.get(p.mac);
        const d = (w?.f ?? 0) + (w?.u ?? 0) - ((have?.f ?? 0) + (have?.u ?? 0));
        if (d <= 0) continue;
        invLost += d;
        invLostAt.push(...killedTimes(p.mac).slice(0, d));
      }
      expect(invLostAt.length, 'every inventory count missing is of a request the killed node answered').toBe(invLost);
      const invReachesMs = invLost === 0 ? 0 : Math.max(0, killedAt - Math.min(...invLostAt));
      const invPhones = phones.filter((p) => {
        const w = want.get(p.mac);
        const h = invOf.get(p.mac);
        return (w?.f ?? 0) + (w?.u ?? 0) > (h?.f ?? 0) + (h?.u ?? 0);
      }).length;
      return { lost, lossReachesMs, lostIn, inLast, killedAnswers, invLost, invReachesMs, invPhones, notSeen, lostAt };
    };
    const before = await measure('before the restart');

    // Issue 16: the killed node comes back on its data directory (as systemd restarts it). Its
    // audit journal (src/core/audit-journal.ts) holds every batch it had sealed but not stored;
    // the new process adopts the journal and writes those batches, each once (the store skips a
    // batch id it applied before: the write in flight at the kill may have committed).
    const spoolDir = join(site.dir, 'data1', AUDIT_SPOOL_DIR);
    const left = journalsIn(spoolDir);
    const deadPid = victim.child.pid!;
    const journaled = left.filter((n) => n.startsWith(`journal-${deadPid}-`)).reduce((n, f) => n + readJournal(join(spoolDir, f)).length, 0);
    const tRestart = Date.now();
    const restarted = await startNodeAt(site, 1, HOSTS[1]!, port);
    nodes[1] = restarted;
    const replayMs = await within(30_000, async () => journalsIn(spoolDir).every((n) => !n.includes('.adopted-') && !n.startsWith(`journal-${deadPid}-`)));
    expect(replayMs, `the killed node's journal replayed within 30 s (files: ${journalsIn(spoolDir).join(', ')})`).toBeLessThan(Infinity);
    await restarted.stop();
    // Its log line: records written, batches stored, batches the store had already (skipped by id).
    const replayed = /^\{.*"audit journal of a process that died replayed".*$/m.exec(restarted.output())?.[0];
    const replayLine = replayed ? JSON.stringify((({ records, batches, alreadyStored }) => ({ records, batches, alreadyStored }))(JSON.parse(replayed) as Record<string, unknown>)) : 'no replay line';
    const after = await measure('after the restart');
    // Issue 16: "the killed node's unflushed audit batch, at most its last 100 ms, is the only loss
    // allowed". With the journal only records not yet sealed (the last ~25 ms) are lost.
    expect(after.lossReachesMs, `after the restart ${after.lost} audit records lost reaching back ${after.lossReachesMs} ms`).toBeLessThan(100);
    expect(after.lost).toBeLessThanOrEqual(before.lost);

    const figures = (m: typeof before) =>
      `${m.lost}, reaching back ${m.lossReachesMs} ms before the kill (lost/answered in its last 0-50 ms ${m.lostIn(-Infinity, 50)}/${m.inLast(50)}, 50-100 ms ${m.lostIn(50, 100)}/${m.inLast(100) - m.inLast(50)}, 100-200 ms ${m.lostIn(100, 200)}/${m.inLast(200) - m.inLast(100)}, 200+ ms ${m.lostIn(200, Infinity)}/${m.killedAnswers.length - m.inLast(200)}); ` +
      `inventory counts lost ${m.invLost} on ${m.invPhones} phones, reaching back ${m.invReachesMs} ms`;
    const answeredTotal = [...answered.values()].reduce((a, b) => a + b, 0);
    bootMs.sort((a, b) => a - b);
    process.stderr.write(
      `[nodes/faults-kill] ${phones.length} phones in ${stormMs} ms (last boot done at p50 ${bootMs[bootMs.length >> 1]} ms, max ${bootMs.at(-1)} ms after the start), node 2 SIGKILLed ${killedAt - t0} ms in; ` +
        `${failedOver} phones failed over from it; ${sent} requests sent, ${answeredTotal} answered; audit records lost before the restart (the killed node's unwritten batches): ${figures(before)}; ` +
        `its journal held ${journaled} open batches, replayed ${replayMs} ms after the restarted node listened (restart to stopped again ${Date.now() - tRestart} ms; ${replayLine}); after the restart: ${figures(after)}; ` +
        `phones with more than one stored override version: ${twice}; phones missing from the inventory (their sighting in the lost batch): ${before.notSeen.length} before the restart, ${after.notSeen.length} after\n`,
    );
  }, TEST_MS);
});
