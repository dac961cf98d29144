// The fleet CSV (issue 14, CLI: `fleet import` / `fleet export`): one phone a row, `mac`
// required, `model`, `label`, `tenant`, `site`, `groups` (`;`-separated, in order) optional, and
// every other column a Polycom parameter set at the phone's scope (an empty cell leaves it unset).
// Read with csv-parse (RFC 4180 quoting, BOM, CRLF or LF) and written with csv-stringify. Every
// bad row is reported as `FILE:LINE: column: message` — never a secret's value — so an import can
// refuse the whole file at once; whether a tenant, site or group exists is the fleet service's
// check, made with each row's line.
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { FLEET_NAME, type Mac, type ManagedPhone } from '../domain.ts';
import { ProvError } from '../errors.ts';
import { MODELS, normalizeModel, parseMac } from '../config/models.ts';
import { nearest } from '../util/nearest.ts';
import type { PhoneInput } from './types.ts';
import { settingNameCheck, type SettingProblem } from './validate.ts';
import { parseCsvFast } from './csv-fast.ts';

export interface CsvRow {
  /** The line the row starts on (1 is the header). */
  line: number;
  phone: PhoneInput;
  /** Parameter columns with a value; an empty cell is not here. */
  settings: Record<string, string>;
}

/** The phone columns, in the order export writes them. */
export const PHONE_COLUMNS = ['mac', 'model', 'label', 'tenant', 'site', 'groups'] as const;
type PhoneColumn = (typeof PHONE_COLUMNS)[number];

interface Found {
  line: number;
  order: number;
  text: string;
}

/** Lines (1-based) holding bytes that are not UTF-8. */
function badUtf8Lines(bytes: Buffer): number[] {
  const out: number[] = [];
  const dec = new TextDecoder('utf-8', { fatal: true });
  try {
    dec.decode(bytes); // the whole file at once: line by line only when something is bad
    return out;
  } catch {
    // fall through
  }
  let start = 0;
  let line = 1;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    try {
      dec.decode(bytes.subarray(start, end));
    } catch {
      out.push(line);
    }
    start = end + 1;
    line++;
  }
  return out;
}

function controlChar(s: string): boolean {
  return /[\x00-\x1f\x7f]/.test(s);
}

export type CsvRecord = { record: string[]; info: { lines: number } };
type Rec = CsvRecord;
// With `info: true` csv-parse gives { record, info } objects, to on_record as well; its type
// declarations do not say so.
export const parseRecords = parse as unknown as (input: string, options: Record<string, unknown>) => Rec[];

/** How a fleet CSV is read by csv-parse (the fast reader, csv-fast.ts, must read a file the same). */
export const CSV_PARSE_OPTIONS = {
  info: true,
  bom: true,
  relax_column_count: true,
  skip_empty_lines: true,
  skip_records_with_error: true,
  record_delimiter: ['\r\n', '\n'],
} as const;

/** How many times `ch` stands in the fields. */
export function count(fields: readonly string[], ch: string): number {
  let n = 0;
  for (const f of fields) for (let i = f.indexOf(ch); i >= 0; i = f.indexOf(ch, i + 1)) n++;
  return n;
}

/**
 * Parses a fleet CSV. `errors` holds one `FILE:LINE: column: message` per problem, in line order;
 * `rows` holds every row that parsed (use them only when `errors` is empty).
 */
export function parseFleetCsv(bytes: Buffer, file: string): { rows: CsvRow[]; errors: string[] } {
  const found: Found[] = [];
  let order = 0;
  const err = (line: number, column: string, message: string): void => {
    found.push({ line, order: order++, text: `${file}:${line}: ${column}: ${message}` });
  };
  for (const line of badUtf8Lines(bytes)) err(line, 'encoding', 'not valid UTF-8 (save the file as UTF-8)');
  const text = new TextDecoder('utf-8').decode(bytes); // strips a BOM; bad bytes already reported

  let lines: string[] | undefined;
  let lastEnd = 0;
  let crs = 0;
  const skippedLines = new Set<number>();
  // The plain file (no quoting mistakes) read by csv-fast.ts; anything else by csv-parse, whose
  // reports name the line and the mistake.
  let records: Rec[] | undefined = parseCsvFast(text);
  if (!records) {
   try {
    records = parseRecords(text, {
      ...CSV_PARSE_OPTIONS,
      on_skip: (e: (Error & { code?: string; lines?: number }) | undefined) => {
        if (!e) return;
        let line = e.lines === undefined ? lastEnd + 1 : e.lines - crs;
        let message = 'malformed quoting: a quote inside a field that does not start with one, or text after a closing quote (RFC 4180: quote the whole field and double inner quotes)';
        if (e.code === 'CSV_QUOTE_NOT_CLOSED') {
          // Reported at the end of the file; the unclosed field starts after the last good record.
          line = lastEnd + 1;
          lines ??= text.split('\n');
          while (line < lines.length && lines[line - 1]!.trim() === '') line++;
          message = 'a quoted field is not closed before the end of the file';
        }
        if (skippedLines.has(line)) return;
        skippedLines.add(line);
        err(line, 'quoting', message);
      },
      on_record: (r: Rec) => {
        // csv-parse counts a CR inside a field as a line break of its own (CRLF as two); lines
        // here are what an editor shows, counted by LF.
        crs += count(r.record, '\r');
        r.info.lines -= crs;
        lastEnd = r.info.lines;
        return r;
      },
    });
  } catch (e) {
    err(lastEnd + 1, 'quoting', `the file cannot be read as CSV (${(e as { code?: string }).code ?? 'parse error'})`);
    records = [];
  }
  }

  const rows: CsvRow[] = [];
  const header = records[0];
  if (!header) {
    if (found.length === 0) err(1, 'mac', 'the file has no header row (it needs at least a mac column)');
    return { rows, errors: finish(found) };
  }
  const headerLine = header.info.lines - count(header.record, '\n');
  const columns = header.record.map((c) => c.trim());
  const sep = columns.length === 1 ? [';', '\t'].find((c) => columns[0]!.includes(c)) : undefined;
  if (sep !== undefined) {
    err(headerLine, columns[0]!.split(sep)[0]!.trim() || 'mac', `the header is one column holding "${sep === ';' ? ';' : 'TAB'}": the file is not comma-separated (save it as CSV with commas)`);
    return { rows, errors: finish(found) };
  }
  const kinds: Array<PhoneColumn | 'param' | 'bad'> = [];
  const checks: Array<((value: string) => SettingProblem | undefined) | undefined> = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < columns.length; i++) {
    const name = columns[i]!;
    const lower = name.toLowerCase();
    const key = (PHONE_COLUMNS as readonly string[]).includes(lower) ? lower : name;
    if (name === '') {
      err(headerLine, `column ${i + 1}`, 'empty column name');
      kinds.push('bad');
    } else if (seen.has(key)) {
      err(headerLine, name, `column given twice (columns ${seen.get(key)! + 1} and ${i + 1})`);
      kinds.push('bad');
    } else if (key !== name || (PHONE_COLUMNS as readonly string[]).includes(name)) {
      kinds.push(key as PhoneColumn);
    } else {
      // The name checked once per column; each cell then checks its value only.
      const n = settingNameCheck(name);
      if (n.problem) {
        err(headerLine, name, n.problem.message);
        kinds.push('bad');
      } else {
        kinds.push('param');
        checks[i] = n.value;
      }
    }
    seen.set(key, i);
  }
  if (!seen.has('mac')) err(headerLine, 'mac', 'the header has no mac column (it is required)');

  const macLines = new Map<string, number>();
  for (const rec of records.slice(1)) {
    const cells = rec.record;
    const line = rec.info.lines - count(cells, '\n');
    if (cells.every((c) => c.trim() === '')) continue; // a spreadsheet's trailing ",,,"
    if (cells.length !== columns.length) {
      err(line, 'fields', `${cells.length} fields where the header has ${columns.length}`);
      continue;
    }
    const phone: Partial<PhoneInput> = {};
    const settings: Record<string, string> = {};
    let ok = true;
    const bad = (column: string, message: string): void => {
      ok = false;
      err(line, column, message);
    };
    for (let i = 0; i < cells.length; i++) {
      const kind = kinds[i]!;
      const raw = cells[i]!;
      const name = columns[i]!;
      if (kind === 'bad') continue;
      if (kind === 'param') {
        if (raw === '') continue;
        const p = checks[i]!(raw);
        if (p) bad(name, p.message);
        else settings[name] = raw;
        continue;
      }
      const v = raw.trim();
      switch (kind) {
        case 'mac': {
          const mac = parseMac(v);
          if (v === '') bad('mac', 'empty (every row needs the phone MAC address)');
          else if (!mac) bad('mac', `"${v}" is not a MAC address (12 hex digits, with or without : - or . separators)`);
          else {
            const first = macLines.get(mac);
            if (first !== undefined) bad('mac', `${mac} is also on line ${first} (a phone appears once)`);
            else macLines.set(mac, line);
            phone.mac = mac;
          }
          break;
        }
        case 'model': {
          if (v === '') break;
          const m = normalizeModel(v);
          if (m) phone.model = m;
          else {
            const near = nearest(v.toUpperCase(), MODELS.map((x) => x.token.toUpperCase()));
            const token = near && MODELS.find((x) => x.token.toUpperCase() === near)?.token;
            bad('model', `unknown model "${v}"${token ? ` (did you mean "${token}"?)` : ''}`);
          }
          break;
        }
        case 'label':
          if (v === '') break;
          if (controlChar(raw)) bad('label', 'contains a control character');
          else phone.label = raw;
          break;
        case 'tenant':
        case 'site':
          if (v === '') break;
          if (!FLEET_NAME.test(v)) bad(kind, `"${v}" is not a valid ${kind} name (a-z, 0-9, _ and -, at most 63 characters)`);
          else phone[kind] = v;
          break;
        case 'groups': {
          const groups = v === '' ? [] : v.split(';').map((g) => g.trim()).filter((g) => g !== '');
          const wrong = groups.filter((g) => !FLEET_NAME.test(g));
          const dup = groups.find((g, j) => groups.indexOf(g) !== j);
          if (wrong.length) bad('groups', `${wrong.map((g) => `"${g}"`).join(', ')} ${wrong.length > 1 ? 'are not valid group names' : 'is not a valid group name'} (a-z, 0-9, _ and -; separate groups with ;)`);
          else if (dup) bad('groups', `group "${dup}" named twice`);
          else phone.groups = groups;
          break;
        }
      }
    }
    if (ok && phone.mac) rows.push({ line, phone: phone as PhoneInput, settings });
  }
  return { rows, errors: finish(found) };
}

/**
 * The refusal of an import with bad rows (PP_FLEET_CSV_INVALID): the message counts them and
 * lists every `FILE:LINE: column: message`, one a line, as parseFleetCsv (and the fleet's
 * existence checks) wrote them.
 */
export function csvInvalid(file: string, errors: readonly string[]): ProvError {
  const n = errors.length;
  return new ProvError('PP_FLEET_CSV_INVALID', `${file}: ${n} ${n === 1 ? 'problem' : 'problems'}; nothing was applied\n${errors.join('\n')}`, {
    hint: 'Fix the rows named and import again (--create creates the tenants, sites and groups the file names).',
  });
}

function finish(found: Found[]): string[] {
  return found.sort((a, b) => a.line - b.line || a.order - b.order).map((f) => f.text);
}

/**
 * The fleet as CSV: the phone columns, then the union of parameter names, sorted. A secret's cell
 * is blank unless 'with-secrets' (blank imports as "leave unset", so export then import changes
 * nothing). CRLF line ends (RFC 4180), every field that needs it quoted.
 */
export function writeFleetCsv(rows: ReadonlyArray<{ phone: ManagedPhone | (PhoneInput & { groups?: string[] }); settings: Record<string, string> }>, secretNames: ReadonlySet<string> | 'with-secrets'): string {
  const names = new Set<string>();
  for (const r of rows) for (const n of Object.keys(r.settings)) names.add(n);
  const params = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const hide = (n: string): boolean => secretNames !== 'with-secrets' && secretNames.has(n);
  const table: string[][] = [[...PHONE_COLUMNS, ...params]];
  for (const { phone, settings } of rows) {
    table.push([
      phone.mac as Mac,
      phone.model ?? '',
      phone.label ?? '',
      phone.tenant ?? '',
      phone.site ?? '',
      (phone.groups ?? []).join(';'),
      ...params.map((n) => (hide(n) ? '' : (settings[n] ?? ''))),
    ]);
  }
  return stringify(table, { record_delimiter: 'windows', quoted_match: /[\r\n]|^\s|\s$/ });
}
