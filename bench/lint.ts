// bench/lint.ts: `lintTree` over a tree of 10,000 per-phone files (issue 3: "A tree of 10,000
// per-phone files lints in under 10 s on this 2-core machine: a figure in the README from
// npm run bench, not a timed test").
//
//   npx tsx bench/lint.ts [--phones N] [--runs R]
//
// The tree, written to a temporary directory and read through TreeFiles like `polyprov lint`:
//   000000000000.cfg   CONFIG_FILES="phones/[PHONE_MAC_ADDRESS].cfg, features.cfg, site.cfg"
//   site.cfg, features.cfg   ~150 site-wide parameters, some set in both (shadowing work)
//   phones/<MAC>.cfg   N per-phone files (lines, credentials, labels)
//   overrides/<MAC>-phone.cfg   for every 10th phone (its own chain)
//   contacts/<MAC>-directory.xml for every 20th phone (20 contacts each)
// Results: bench/results/lint-<date>.json and .md.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lintTree, summarize } from '../src/config/lint/index.ts';
import { TreeFiles } from '../src/config/tree-source.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const PHONES = arg('--phones', 10_000);
const RUNS = arg('--runs', 3);
const TARGET_MS = 10_000;

function mac(i: number): string {
  return `0004f2${i.toString(16).padStart(6, '0')}`;
}

function siteFile(offset: number): string {
  const attrs: string[] = ['httpd.cfg.enabled="0"', 'voIpProt.SIP.specialEvent.checkSync.alwaysReboot="0"', 'voIpProt.server.1.address="pbx.example.com"'];
  // A spread of real parameter names with template-like values.
  const names = [
    'prov.polling.enabled="0"', 'prov.polling.mode="abs"', 'prov.polling.time="03:00"', 'prov.polling.period="86400"',
    'log.render.level="1"', 'log.render.file.upload.period="172800"', 'dir.local.readonly="0"', 'tcpIpApp.sntp.address="pool.ntp.org"',
    'voIpProt.SIP.local.port="5060"', 'up.oneTouchVoiceMail="0"', 'sec.encryption.upload.config="0"', 'feature.presence.enabled="0"',
  ];
  for (let i = 0; i < 12; i++) attrs.push(names[(i + offset) % names.length]!);
  for (let k = 1; k <= 12; k++) attrs.push(`reg.${k}.lineKeys="1"`, `reg.${k}.type="private"`, `reg.${k}.server.1.expires="3600"`);
  for (let k = 1; k <= 24; k++) attrs.push(`softkey.${k}.enable="0"`, `softkey.${k}.label=""`);
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<polycomConfig>\n${attrs.map((a) => `  <p ${a}/>`).join('\n')}\n</polycomConfig>\n`;
}

function phoneFile(i: number): string {
  const ext = 1000 + i;
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<polycomConfig>
  <reg reg.1.address="${ext}" reg.1.label="${ext}" reg.1.displayName="Phone ${ext}" reg.1.auth.userId="${ext}" reg.1.auth.password="pw-${(i * 7919) % 100000}"/>
  <reg reg.2.address="${ext + 50000}" reg.2.auth.userId="${ext + 50000}" reg.2.auth.password="pw2-${i}"/>
  <up up.oneTouchVoiceMail="1"/>
</polycomConfig>
`;
}

function directory(i: number): string {
  const items = Array.from({ length: 20 }, (_, k) => `<item><ln>Last${k}</ln><fn>First${k}</fn><ct>${2000 + k}</ct><sd>${k + 1}</sd><rt>1</rt><ad>0</ad><ar>0</ar><bw>0</bw><bb>0</bb></item>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<directory><item_list>\n${items.join('\n')}\n</item_list></directory>\n<!-- ${mac(i)} -->\n`;
}

async function buildTree(root: string): Promise<number> {
  await mkdir(join(root, 'phones'), { recursive: true });
  await mkdir(join(root, 'overrides'), { recursive: true });
  await mkdir(join(root, 'contacts'), { recursive: true });
  await writeFile(join(root, '000000000000.cfg'), '<APPLICATION APP_FILE_PATH="" CONFIG_FILES="phones/[PHONE_MAC_ADDRESS].cfg, features.cfg, site.cfg" OVERRIDES_DIRECTORY="overrides" CONTACTS_DIRECTORY="contacts" LOG_FILE_DIRECTORY=""/>\n');
  await writeFile(join(root, 'site.cfg'), siteFile(0));
  await writeFile(join(root, 'features.cfg'), siteFile(5).replace('httpd.cfg.enabled="0"', 'dir.local.UIenabled="1"'));
  let files = 3;
  const BATCH = 200;
  for (let s = 0; s < PHONES; s += BATCH) {
    const jobs: Promise<void>[] = [];
    for (let i = s; i < Math.min(PHONES, s + BATCH); i++) {
      jobs.push(writeFile(join(root, 'phones', `${mac(i)}.cfg`), phoneFile(i)));
      files++;
      if (i % 10 === 0) {
        jobs.push(writeFile(join(root, 'overrides', `${mac(i)}-phone.cfg`), `<OVERRIDES up.oneTouchVoiceMail="0" reg.1.label="Desk ${i}"/>\n`));
        files++;
      }
      if (i % 20 === 0) {
        jobs.push(writeFile(join(root, 'contacts', `${mac(i)}-directory.xml`), directory(i)));
        files++;
      }
    }
    await Promise.all(jobs);
  }
  return files;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'polyprov-bench-lint-'));
  try {
    const files = await buildTree(root);
    const times: number[] = [];
    let summary = { errors: 0, warnings: 0, infos: 0 };
    let findings = 0;
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      const out = await lintTree(new TreeFiles(root));
      times.push(performance.now() - t0);
      summary = summarize(out);
      findings = out.length;
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const date = new Date().toISOString();
    const report = {
      date,
      machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}`,
      phones: PHONES,
      files,
      runs: RUNS,
      medianMs: Math.round(median),
      allMs: times.map((t) => Math.round(t)),
      findings,
      summary,
      target: { description: `${PHONES} per-phone files lint in under ${TARGET_MS / 1000} s (issue 3)`, ms: TARGET_MS, pass: median < TARGET_MS },
    };
    process.stdout.write(`lint: ${files} files (${PHONES} phones), median ${report.medianMs} ms over ${RUNS} runs [${report.allMs.join(', ')}]; ` +
      `${findings} findings (${summary.errors} errors, ${summary.warnings} warnings, ${summary.infos} info); target < ${TARGET_MS} ms: ${report.target.pass ? 'pass' : 'FAIL'}\n`);
    const resultsDir = join(HERE, 'results');
    await mkdir(resultsDir, { recursive: true });
    const stem = join(resultsDir, `lint-${date.slice(0, 10)}`);
    await writeFile(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(
      `${stem}.md`,
      `# lint benchmark, ${date}\n\nMachine: ${report.machine}.\n\n| tree | runs | median ms | all runs ms | findings | target < ${TARGET_MS} ms |\n|---|---:|---:|---|---|---|\n` +
        `| ${files} files, ${PHONES} per-phone files, overrides for every 10th, directories for every 20th | ${RUNS} | ${report.medianMs} | ${report.allMs.join(', ')} | ${summary.errors} errors, ${summary.warnings} warnings, ${summary.infos} info | ${report.target.pass ? 'yes' : 'NO'} |\n`,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
