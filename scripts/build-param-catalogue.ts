// Builds src/config/params.json, the parameter catalogue, from the genuine Polycom template files
// in ../shared/real-configs/ (every attribute of every element is a parameter, facts §2.1) and the
// hand-written overlay src/config/params-overlay.json (ranges, enums, secrets, descriptions from
// the documents). White paper, "Default Configuration Parameter Values": "In the event of any
// differences, treat the template files as the definitive reference".
//
//   npx tsx scripts/build-param-catalogue.ts [REAL_CONFIGS_DIR] [--check]
//
// --check exits 1 when the committed params.json differs from what would be generated.
import { readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SaxesParser } from 'saxes';

import type { ParamDef, ParamType } from '../src/config/param-value.ts';
import { validateParamValue } from '../src/config/param-value.ts';
import { guessSecret, splitParamName } from '../src/config/param-name.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const root = args.find((a) => !a.startsWith('--')) ?? join(repo, '..', 'shared', 'real-configs');
const out = join(repo, 'src', 'config', 'params.json');
const overlayPath = join(repo, 'src', 'config', 'params-overlay.json');

// Newest generation first: its defaults win (UCS 5.x templates are the most complete).
const GENERATION_ORDER = ['ucs-5.x', 'sip-3.2.4', 'sip-1.2.0'];

interface Observation { value: string; file: string; index: number; model?: string }

function listFiles(dir: string): string[] {
  const outFiles: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) outFiles.push(...listFiles(p));
    else if (/\.(cfg|xml)$/i.test(name)) outFiles.push(p);
  }
  return outFiles;
}

function generationRank(rel: string): number {
  const i = GENERATION_ORDER.findIndex((g) => rel.startsWith(g + '/'));
  return i < 0 ? GENERATION_ORDER.length : i;
}

/** Every attribute of every element; null for master files and contact directories. */
function attributesOf(text: string): Array<{ name: string; value: string }> | null {
  const parser = new SaxesParser({ xmlns: false });
  const attrs: Array<{ name: string; value: string }> = [];
  let rootName: string | undefined;
  parser.on('opentag', (tag) => {
    if (rootName === undefined) rootName = tag.name;
    for (const [name, value] of Object.entries(tag.attributes as Record<string, string>)) attrs.push({ name, value });
  });
  parser.write(text.replace(/^\uFEFF/, '')).close();
  // Master files (root APPLICATION) and directories carry no parameters (facts §1.2, §6.1).
  if (rootName === undefined || /^APPLICATION$/i.test(rootName) || rootName === 'directory') return null;
  return attrs.filter((a) => !a.name.startsWith('xmlns') && !a.name.startsWith('xsi:'));
}

const observations = new Map<string, Observation[]>();
const files = listFiles(root)
  .map((p) => ({ p, rel: relative(root, p).split('\\').join('/') }))
  .sort((a, b) => generationRank(a.rel) - generationRank(b.rel) || a.rel.localeCompare(b.rel));
let fileCount = 0;
for (const { p, rel } of files) {
  const attrs = attributesOf(readFileSync(p, 'utf8'));
  if (!attrs) continue;
  fileCount++;
  for (const a of attrs) {
    const parts = splitParamName(a.name);
    const obs: Observation = { value: a.value, file: rel, index: parts.indexes.reduce((s, n) => s * 100 + n, 0) };
    if (parts.model) obs.model = parts.model;
    let list = observations.get(parts.pattern);
    if (!list) observations.set(parts.pattern, (list = []));
    list.push(obs);
  }
}

// A 0/1 default is a boolean unless the name says it counts or measures something.
const NUMERIC_NAME = /(timeout|time|count|max|min|num|number|period|delay|size|limit|port|level|interval|threshold|index|idx|id|attempts|retries|retry|volume|priority|gain|adjust|offset|duration|rate|length|len|expires|mode|type|value|freq|lines|digits|ms|sec|seconds|minutes|hours|days|percent|weight|kbps|bitrate|width|height|depth|dur|repeat|atten|mpi|throughput|balance|phys[XYWH]|[XYWH]|count\w*)$/i;
const BOOLEAN_NAME = /(^|[a-z])(enabled?|Enabled?|enable|Enable|\.set)$|^(set|enabled?|readonly|UIenabled)$/;

function inferType(pattern: string, values: string[]): ParamType {
  // The last named segment: in `tone.chord.ringer.x.freq.x` that is `freq`.
  const last = pattern.split('.').filter((s) => s !== 'x').pop() ?? pattern;
  const nonEmpty = values.filter((v) => v !== '');
  if (nonEmpty.length === 0) return BOOLEAN_NAME.test(last) || pattern.endsWith('.set') ? 'boolean' : 'string';
  if (nonEmpty.every((v) => /^-?\d+$/.test(v))) {
    if (nonEmpty.every((v) => v === '0' || v === '1') && (!NUMERIC_NAME.test(last) || BOOLEAN_NAME.test(last))) return 'boolean';
    return 'integer';
  }
  return 'string';
}

interface OverlayEntry extends Partial<ParamDef> { }
const overlay = (JSON.parse(readFileSync(overlayPath, 'utf8')) as { params: Record<string, OverlayEntry> }).params;

const defs: ParamDef[] = [];
const patterns = new Set([...observations.keys(), ...Object.keys(overlay)]);
for (const pattern of [...patterns].sort()) {
  const obs = observations.get(pattern) ?? [];
  const plain = obs.filter((o) => o.model === undefined);
  // Default: newest generation, lowest index (files were read newest first).
  const first = [...plain].sort((a, b) => generationRank(a.file) - generationRank(b.file) || a.index - b.index)[0];
  const sources = [...new Set(obs.map((o) => o.file))];
  const def: ParamDef = {
    name: pattern,
    type: inferType(pattern, obs.map((o) => o.value)),
    device: pattern.startsWith('device.'),
    secret: guessSecret(pattern),
    description: '',
  };
  if (first && first.value !== '') def.default = first.value;
  const modelDefaults: Record<string, string> = {};
  for (const o of obs) if (o.model && !(o.model in modelDefaults)) modelDefaults[o.model] = o.value;
  if (Object.keys(modelDefaults).length) def.modelDefaults = modelDefaults;
  const templateSource = sources.length ? `templates: ${sources.slice(0, 3).join(', ')}${sources.length > 3 ? ', …' : ''}` : '';
  const o = overlay[pattern];
  if (o) {
    Object.assign(def, o, { name: pattern });
    def.documented = true;
    def.source = [o.source, templateSource].filter(Boolean).join('; ');
    if (o.type && o.type !== 'enum') delete def.values;
    if (o.default === undefined && first && first.value !== '') def.default = first.value;
  } else {
    def.inferred = true;
    def.source = templateSource;
  }
  if (!def.description) def.description = describe(pattern, def);
  defs.push(def);
}

/** A terse description for template-only parameters: family and what the name says. */
function describe(pattern: string, def: ParamDef): string {
  const segs = pattern.split('.');
  // camelCase to words; Capitalised words lower-cased, acronyms (SIP, TLS, VLAN) kept.
  const words = segs
    .slice(1)
    .filter((s) => s !== 'x')
    .join(' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(' ')
    .map((w) => (/^[A-Z][a-z]+$/.test(w) ? w.toLowerCase() : w))
    .join(' ');
  const where = segs.includes('x') ? ' (per index x)' : '';
  return `${segs[0]}: ${words || segs[0]}${where}${def.type === 'boolean' ? ' (0/1)' : ''}.`;
}

// Documented types must accept every value Polycom's own templates ship.
for (const def of defs) {
  if (!def.documented) continue;
  for (const o of observations.get(def.name) ?? []) {
    const problem = validateParamValue(def, o.value);
    if (problem) process.stderr.write(`overlay ${def.name}: template ${o.file} has "${o.value}": ${problem}\n`);
  }
}

const json = JSON.stringify(
  { _comment: 'GENERATED by scripts/build-param-catalogue.ts from ../shared/real-configs and src/config/params-overlay.json. Do not edit by hand.', files: fileCount, params: defs },
  null,
  0,
).replace(/\},\{"name"/g, '},\n{"name"') + '\n';

if (check) {
  const current = existsSync(out) ? readFileSync(out, 'utf8') : '';
  if (current !== json) {
    process.stderr.write('params.json is out of date: run npx tsx scripts/build-param-catalogue.ts\n');
    process.exit(1);
  }
  process.stdout.write(`params.json up to date (${defs.length} parameters)\n`);
} else {
  writeFileSync(out, json);
  process.stdout.write(`wrote ${relative(repo, out)}: ${defs.length} parameters from ${fileCount} template files\n`);
}
