// Issue 16, Behaviour under faults, under `serve --workers N` (One machine, every core: "A worker
// that dies is restarted"): a worker SIGKILLed under load leaves its audit write-ahead journal
// (src/core/audit-journal.ts) in the shared data directory; the worker the primary forks in its
// place adopts it (the sibling, alive, leaves it alone) and writes what it held, so the audit
// counts every answered request at most once and misses at most the dead worker's last unsealed
// records (~25 ms; asserted: no more than the requests answered in the 100 ms before the kill).
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, test } from 'vitest';
import { startServe, type ServeChild } from '../phone/serve-child.ts';
import { req } from '../support/http-client.ts';
import { standardTree, tempDir } from '../support/tree.ts';
import { childPids } from '../workers/cluster-child.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const files = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
const journalsOf = (dir: string, pid: number) => files(dir).filter((n) => n.startsWith(`journal-${pid}-`));

describe('issue 16, Behaviour under faults: a worker killed under load, its audit journal adopted by its replacement', () => {
  let serve: ServeChild | undefined;
  afterAll(async () => {
    await serve?.stop();
  });

  test('serve --workers 2: SIGKILL one worker mid-traffic; the restarted worker replays its journal; audit at most once, loss within its last 100 ms', async () => {
    const data = tempDir();
    // The embedded store journals only when asked (auditJournal auto: on with PostgreSQL): asked here.
    const config = join(tempDir(), 'polyprov.json');
    writeFileSync(config, JSON.stringify({ auditJournal: 'on' }));
    serve = await startServe(['--root', standardTree(), '--data', data, '--config', config, '--workers', '2', '--policy', 'open', '--log-level', 'warn'], ['http'], 90_000);
    const url = `http://127.0.0.1:${serve.ports.http}/site.cfg`;
    const spool = join(data, 'audit-spool');
    const before = childPids(serve.child.pid!);
    expect(before).toHaveLength(2);

    // Eight clients in a loop, each request timed when its answer arrived.
    const answeredAt: number[] = [];
    let stop = false;
    const client = async () => {
      for (let n = 0; n < 100_000 && !stop; n++) {
        try {
          const r = await req(url);
          if (r.status > 0) answeredAt.push(Date.now());
        } catch {
          await sleep(5); // the killed worker's connections reset: not answered
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await sleep(1500);
    const victim = before[0]!;
    expect(journalsOf(spool, victim), 'the worker journals what it records').toHaveLength(1);
    process.kill(victim, 'SIGKILL');
    const killedAt = Date.now();

    // The primary forks a new worker; it adopts the dead worker's journal (claimed by rename, replayed, removed).
    const end = Date.now() + 30_000;
    while (Date.now() < end && (childPids(serve.child.pid!).filter((p) => p !== victim).length < 2 || journalsOf(spool, victim).length > 0 || files(spool).some((n) => n.includes('.adopted-')))) await sleep(50);
    expect(childPids(serve.child.pid!).filter((p) => p !== victim)).toHaveLength(2);
    expect(journalsOf(spool, victim), 'the dead worker\'s journal is replayed and removed').toEqual([]);
    expect(files(spool).filter((n) => n.includes('.adopted-'))).toEqual([]);
    await sleep(500);
    stop = true;
    await Promise.all(clients);
    await serve.stop(); // the workers flush their audit
    const replayed = /^\{.*"audit journal of a process that died replayed".*$/m.exec(serve.output())?.[0];

    const db = new Database(join(data, 'polyprov.db'), { readonly: true });
    let audited: number;
    try {
      audited = (db.prepare("SELECT count(*) AS n FROM audit WHERE path = 'site.cfg'").get() as { n: number }).n;
    } finally {
      db.close();
    }
    const answered = answeredAt.length;
    const lost = answered - audited;
    const inLast100 = answeredAt.filter((t) => t > killedAt - 100 && t <= killedAt + 50).length;
    process.stderr.write(`[nodes/worker-journal] ${answered} requests answered, ${audited} audited, ${lost} lost (answered in the 100 ms before the kill: ${inLast100}); replay: ${replayed ?? 'no open batch in the journal'}\n`);
    expect(audited, 'at most once').toBeLessThanOrEqual(answered);
    expect(lost, 'at most the records of the killed worker\'s last 100 ms').toBeLessThanOrEqual(inLast100);
  }, 120_000);
});
