// Issue 16, Behaviour under faults: "Restart PostgreSQL during a storm (a private cluster the test
// starts with initdb as user postgres, never the machine's shared one): nodes reconnect by
// themselves, phones retry as the documents say, nothing stored before is lost, no node exits."
// Three `serve --workers 1` nodes on 127.0.0.1/.2/.3 (one port: one name's redundant boot servers)
// on a private cluster. A first storm stores every phone's override; in a second, each phone has
// a new local edit to upload, and the cluster is stopped (pg_ctl -m fast) a third of the way in
// and started 3 s later. The documents' retries: File Transmit Tries 3, each try every address in
// turn, Retry Wait 1 s from the start of a try (SEED-AG, Server Menu; facts §3.1); an upload
// that still fails leaves the phone's local copy pending for the next boot (white paper,
// OVERRIDES_DIRECTORY; src/phone/application-stage.ts). Skipped, with one line naming the
// package, where initdb/pg_ctl or the postgres user are missing.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ServeChild } from '../phone/serve-child.ts';
import { bootComplete, bootPhones, currentOverrides, editOverride, HOSTS, makePhones, orderFor, retryProblems, startStormNodes, STORM_PHONES, TEST_MS, wholeVersion, withPg, type Phone } from './faults-support.ts';
import { basic, http, makeSite, sleep, within, type Site } from './nodes-support.ts';
import { canRunPrivateCluster, privateCluster, type PrivateCluster } from '../support/private-cluster.ts';

const HAVE_CLUSTER = canRunPrivateCluster();
const SITE = 'site:site-pass';

describe.skipIf(!HAVE_CLUSTER)('issue 16, Behaviour under faults: PostgreSQL restarted during a storm', () => {
  let cluster: PrivateCluster | undefined;
  let site: Site;
  const nodes: ServeChild[] = [];
  let port: number;

  beforeAll(async () => {
    cluster = await privateCluster();
    site = makeSite({ storeUrl: cluster.url });
    port = await startStormNodes(site, nodes);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await site?.cleanup();
    await cluster?.destroy();
  });

  test('issue 16 Behaviour under faults: nodes reconnect by themselves, phones retry as documented, nothing stored before is lost, no node exits', async () => {
    const n = Math.min(STORM_PHONES, 300);
    const phones = makePhones(n, 1);
    // Before: every phone's first edit stored.
    await bootPhones(phones, { hosts: HOSTS, port, auth: SITE, concurrency: 30 });
    expect(phones.filter((p) => !bootComplete(p.records.at(-1)!)).map((p) => p.mac)).toEqual([]);
    const before = await currentOverrides(site.storeUrl);
    expect(before.size).toBe(n);
    const beforeVersions = new Map([...before].map(([mac, v]) => [mac, { version: v.version, body: Buffer.from(v.content) }]));

    // The storm, with the database restarted a third of the way in.
    for (const p of phones) await editOverride(p, 2);
    const first = new Map(phones.map((p) => [p.mac, p.records.length]));
    let outage: Promise<{ down: number; up: number; back: number[] }> | undefined;
    // Nodes reconnect by themselves: from the cluster's return, each node is asked to store an
    // upload every 20 ms until it does (during the rest of the storm).
    const storesAgain = (h: string) => within(15_000, async () => (await http(port, 'PUT', '/overrides/0004f2ffffff-phone.cfg', { host: h, auth: basic('site', 'site-pass'), body: `<PHONE_CONFIG><OVERRIDES up.note="${h}"/></PHONE_CONFIG>` }).catch(() => ({ status: 0 }))).status < 300);
    const t0 = Date.now();
    await bootPhones(phones, {
      hosts: HOSTS,
      port,
      auth: SITE,
      concurrency: 30,
      onBooted: (done) => {
        if (outage || done < Math.floor(n / 3)) return;
        outage = (async () => {
          await cluster!.stop();
          const down = Date.now();
          await sleep(3000);
          await cluster!.start();
          const up = Date.now();
          return { down, up, back: await Promise.all(HOSTS.map(storesAgain)) };
        })();
      },
    });
    const { down, up, back } = await outage!;
    const stormMs = Date.now() - t0;
    for (const node of nodes) expect(node.child.exitCode ?? node.child.signalCode, node.output().slice(-2000)).toBe(null);

    // The phones that hit the outage retried as the documents say: each try went to every address
    // in turn, tries 1..3, the next try no sooner than Retry Wait after the previous one began.
    const storm = phones.map((p) => p.records[first.get(p.mac)!]!);
    const failedUpload = phones.filter((_, k) => !bootComplete(storm[k]!));
    for (const p of failedUpload) {
      const rec = storm[phones.indexOf(p)]!;
      const puts = rec.requests.filter((r) => r.method === 'PUT');
      expect(puts.map((r) => `${r.attempt}@${r.address}`)).toEqual([1, 2, 3].flatMap((a) => HOSTS.map((_, j) => `${a}@${HOSTS[(p.i + j) % 3]}`)));
      // Still pending: the phone keeps its local copy for the next boot.
      expect((await p.state.load()).pending.phone).toBe(true);
    }
    const retried = phones.filter((_, k) => storm[k]!.requests.some((r) => r.attempt > 1)).length;
    expect(retried, 'no phone felt the outage').toBeGreaterThan(0);
    expect(phones.flatMap((p, k) => retryProblems(storm[k]!, orderFor(p.i))).slice(0, 10)).toEqual([]);

    for (const [k, ms] of back.entries()) expect(ms, `${HOSTS[k]} did not store an upload within 15 s of the cluster's return`).toBeLessThan(15_000);

    // The phones left with a pending edit upload it at their next boot.
    const again: Phone[] = phones.filter((_, k) => !bootComplete(storm[k]!));
    await bootPhones(again, { hosts: HOSTS, port, auth: SITE, concurrency: 30 });
    expect(again.filter((p) => !bootComplete(p.records.at(-1)!)).map((p) => p.mac)).toEqual([]);

    // Nothing stored before is lost: each earlier version is still there, byte for byte; each
    // phone's current override is its latest edit, whole.
    const kept = await withPg(site.storeUrl, async (c) => (await c.query(`SELECT mac, version, content FROM upload_versions WHERE kind = 'override-phone'`)).rows as Array<{ mac: string; version: number; content: Buffer }>);
    const missing = [...beforeVersions].filter(([mac, v]) => !kept.some((r) => r.mac === mac && r.version === v.version && r.content.equals(v.body)));
    expect(missing.map(([mac]) => mac)).toEqual([]);
    const now = await currentOverrides(site.storeUrl);
    const bad = phones.filter((p) => {
      const v = now.get(p.mac);
      return !v || !wholeVersion(v) || !v.content.equals(p.body);
    });
    expect(bad.map((p) => p.mac)).toEqual([]);
    for (const node of nodes) expect(node.child.exitCode ?? node.child.signalCode).toBe(null);

    process.stderr.write(
      `[nodes/faults-pg-restart] ${n} phones, storm ${stormMs} ms; cluster stopped ${down - t0} ms in, back ${up - down} ms later; ` +
        `${retried} phones retried (tries > 1), ${failedUpload.length} kept their edit pending and uploaded it at the next boot; ` +
        `nodes stored uploads again ${back.join('/')} ms after the cluster was back; no node exited\n`,
    );
  }, TEST_MS);
});
