// The fleet benchmarks' generated data (issue 14 "Scale"): a deterministic N-phone fleet with two
// lines each (reg.1/reg.2 address, auth.userId, auth.password, label), as the CSV `polyprov fleet
// import` reads and as the classic static tree the same fleet would need by hand (one per-phone
// file each, holding exactly the parameters the managed file renders). MACs are the boot storm's
// (stormMac), so the storm's virtual phones are the fleet's phones. Seeded: the same N gives the
// same bytes, so two runs import the same file.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeConfigFile } from '../src/config/write-xml.ts';
import type { Mac } from '../src/config/types.ts';
import { makeImage } from '../src/phone/image-header.ts';
import { stormMac } from '../src/phone/storm-tree.ts';
import { mulberry32 } from '../src/util/prng.ts';

export interface GeneratedPhone {
  mac: Mac;
  model: string;
  label: string;
  /** Phone-scope settings: the two lines. */
  settings: Record<string, string>;
}

export const LINE_COLUMNS = ['reg.1.address', 'reg.1.auth.userId', 'reg.1.auth.password', 'reg.1.label', 'reg.2.address', 'reg.2.auth.userId', 'reg.2.auth.password', 'reg.2.label'] as const;
const MODELS = ['VVX410', 'VVX411', 'VVX450', 'VVX310'];
const ALNUM = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** Every tenth password holds XML and CSV metacharacters, so the import, the store and the render all meet them. */
const META = ['"', '<', '&', "'", '>', ','];

function password(next: () => number, withMeta: boolean): string {
  let s = '';
  for (let k = 0; k < 16; k++) s += ALNUM[next() % ALNUM.length];
  if (withMeta) s = s.slice(0, 6) + META[next() % META.length] + s.slice(6, 11) + META[next() % META.length] + s.slice(11);
  return s;
}

/** Phone i of the generated fleet (deterministic in `seed` and i alone). */
export function generatedPhone(i: number, seed = 42): GeneratedPhone {
  const next = mulberry32((seed * 1_000_003 + i) >>> 0);
  const mac = stormMac(i);
  const ext1 = 10000 + i * 2;
  const ext2 = ext1 + 1;
  return {
    mac,
    model: MODELS[i % MODELS.length]!,
    label: `Desk ${i}`,
    settings: {
      'reg.1.address': `${ext1}@pbx.example.com`,
      'reg.1.auth.userId': String(ext1),
      'reg.1.auth.password': password(next, i % 10 === 3),
      'reg.1.label': `Line ${ext1}`,
      'reg.2.address': `${ext2}@pbx.example.com`,
      'reg.2.auth.userId': String(ext2),
      'reg.2.auth.password': password(next, i % 10 === 7),
      'reg.2.label': `Line ${ext2}`,
    },
  };
}

/** RFC 4180: a field holding a comma, a quote or a line break is quoted, its quotes doubled. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV of `n` phones: header `mac,model,label,reg.1.…,reg.2.…`, LF line ends. */
export function fleetCsv(n: number, seed = 42): string {
  const out: string[] = [['mac', 'model', 'label', ...LINE_COLUMNS].join(',')];
  for (let i = 0; i < n; i++) {
    const p = generatedPhone(i, seed);
    out.push([p.mac, p.model, p.label, ...LINE_COLUMNS.map((c) => p.settings[c]!)].map(csvField).join(','));
  }
  return out.join('\n') + '\n';
}

const SITE_CFG =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<polycomConfig>\n  <voIpProt voIpProt.server.1.address="pbx.example.com" voIpProt.SIP.specialEvent.checkSync.alwaysReboot="0"/>\n' +
  '  <tcpIpApp tcpIpApp.sntp.address="pool.ntp.org"/>\n  <prov prov.polling.enabled="0"/>\n</polycomConfig>\n';

function master(configFiles: string): string {
  return (
    '<?xml version="1.0" standalone="yes"?>\n<!-- fleet bench tree: white paper, Master Configuration File -->\n' +
    `<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="${configFiles}" MISC_FILES="" ` +
    'LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides" CONTACTS_DIRECTORY="contacts" LICENSE_DIRECTORY=""/>\n'
  );
}

async function commonTree(root: string, configFiles: string, imageSizeMb: number): Promise<void> {
  for (const d of ['logs', 'overrides', 'contacts']) await mkdir(join(root, d), { recursive: true });
  await writeFile(join(root, '000000000000.cfg'), master(configFiles));
  await writeFile(join(root, 'site.cfg'), SITE_CFG);
  await writeFile(join(root, 'sip.ld'), makeImage('4.0.15.1009', Math.round(imageSizeMb * 1024 * 1024)));
}

/** The managed fleet's tree: the master lists `managed/[PHONE_MAC_ADDRESS].cfg` first; no per-phone files. */
export async function writeManagedTree(root: string, imageSizeMb: number): Promise<void> {
  await commonTree(root, 'managed/[PHONE_MAC_ADDRESS].cfg, site.cfg', imageSizeMb);
}

/** The same fleet by hand: `<MAC>-lines.cfg` per phone with the very parameters the managed file renders. */
export async function writeStaticTree(root: string, n: number, imageSizeMb: number, seed = 42): Promise<void> {
  await commonTree(root, '[PHONE_MAC_ADDRESS]-lines.cfg, site.cfg', imageSizeMb);
  const batch: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const p = generatedPhone(i, seed);
    const params = Object.entries(p.settings)
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    batch.push(writeFile(join(root, `${p.mac}-lines.cfg`), writeConfigFile(params)));
    if (batch.length >= 256) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
}
