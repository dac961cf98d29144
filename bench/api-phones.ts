// Issue 15 "Lists": at 10,000 phones a filtered page of 100 answers in under 50 ms. The admin app
// over the in-memory store (the same harness the API tests use), 10,000 phones over 20 sites and 5
// groups; each query asked over a real HTTP client, 5 warm-ups then 31 timed requests; the server's
// own time (request in to answer out) and the client's round trip, medians and p90, with the load
// average (the machine has 2 cores and is noisy). Report: bench/results/api-phones-<date>.{md,json}.
import { loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PHONE_PAGE_QUERIES, seedPhones, startApi } from '../test/api/resources-harness.ts';

const N = Number(process.env.POLYPROV_BENCH_PHONES ?? 10_000);
const BUDGET_MS = 50;
const ROUNDS = 31;
const h = await startApi({ checkResponses: false });
await seedPhones(h, N);

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const rows: Array<{ query: string; serverMedianMs: number; serverP90Ms: number; roundTripMedianMs: number; items: number }> = [];
for (const path of PHONE_PAGE_QUERIES) {
  for (let i = 0; i < 5; i++) await h.call('GET', path);
  const server: number[] = [];
  const client: number[] = [];
  let items = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    const r = await h.call('GET', path);
    client.push(performance.now() - t);
    server.push(h.serverMs[h.serverMs.length - 1]!);
    items = r.json.items.length;
  }
  rows.push({ query: path, serverMedianMs: q(server, 0.5), serverP90Ms: q(server, 0.9), roundTripMedianMs: q(client, 0.5), items });
}
await h.close();

const load = loadavg()[0]!.toFixed(1);
const worst = Math.max(...rows.map((r) => r.serverMedianMs));
const ok = worst < BUDGET_MS;
const md = [
  `# REST API /phones pages at ${N} phones (issue 15 Lists: a filtered page of 100 under ${BUDGET_MS} ms)`,
  '',
  `${new Date().toISOString()}, load average ${load}, ${ROUNDS} timed requests per query after 5 warm-ups.`,
  '',
  '| query | items | server median ms | server p90 ms | round trip median ms |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| \`${r.query}\` | ${r.items} | ${r.serverMedianMs.toFixed(1)} | ${r.serverP90Ms.toFixed(1)} | ${r.roundTripMedianMs.toFixed(1)} |`),
  '',
  `Worst median ${worst.toFixed(1)} ms: ${ok ? 'meets' : 'misses'} the ${BUDGET_MS} ms goal.`,
  '',
].join('\n');
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const stamp = new Date().toISOString().slice(0, 10);
writeFileSync(`${dir}api-phones-${stamp}.md`, md);
writeFileSync(`${dir}api-phones-${stamp}.json`, JSON.stringify({ phones: N, load: Number(load), rows, budgetMs: BUDGET_MS, ok }, null, 2));
process.stdout.write(md);
process.exitCode = ok ? 0 : 1;
