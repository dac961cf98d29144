// Rule family "directory": contact directories (<MAC>-directory.xml, 000000000000-directory.xml).
// Element rules (Administrator's Guide, local contact directory; facts §6.1): ct is required and
// "cannot be null or duplicated" (it is the key for caller matching); fn, ln and lb are UTF-8
// strings of at most 40 bytes; sd is null or 1–9999 (1–99 on the IP 320/330); rt is null or
// 1–21; ad, ar, bw and bb are 0 or 1. A directory larger than the phone holds is cut short by
// the phone: dir.local.contacts.maxNum is 500 in UCS 5.x (99 on VVX101/150/201, 9999 on
// VVX1500), SIP 3.2 keeps at most 200 (facts §6.1).
import { ProvError } from '../../errors.ts';
import { MODELS, modelInfo } from '../models.ts';
import type { Contact, ModelToken, SourcePos } from '../types.ts';
import { macOfName } from '../phone-layout.ts';
import { lookup, type Chain, type LintContext } from './context.ts';

const NAME_FIELDS = ['fn', 'ln', 'lb'] as const;
const FLAG_FIELDS = ['ad', 'ar', 'bw', 'bb'] as const;
const MAX_NAME_BYTES = 40;
const LARGEST = Math.max(...MODELS.map((m) => m.maxContacts ?? 0));

function posOf(c: Contact, field: string): SourcePos {
  return c.fieldPos?.[field] ?? c.pos;
}

function at(p: SourcePos) {
  return { file: p.file, line: p.line, column: p.column };
}

function inRange(v: string, min: number, max: number): boolean {
  if (!/^\d+$/.test(v.trim())) return false;
  const n = Number(v);
  return n >= min && n <= max;
}

export function lintDirectories(ctx: LintContext): ProvError[] {
  const out: ProvError[] = [];
  for (const [path, dir] of ctx.directories) {
    const mac = macOfName(path);
    const model: ModelToken | undefined = mac ? ctx.modelOf(mac) : ctx.opts.model;
    const info = model ? modelInfo(model) : undefined;
    const sdMax = info && /^SPIP3[23]\d$/.test(info.token) ? 99 : 9999;
    const firstCt = new Map<string, Contact>();
    for (const c of dir.contacts) {
      const ct = (c.ct ?? '').trim();
      if (ct === '') {
        out.push(
          new ProvError('PP_DIR_CT_MISSING', 'contact has no ct (contact number or SIP URL); the phone needs it to dial and to match callers, and "it cannot be null"', {
            ...at(c.fieldPos?.ct ?? c.pos),
            hint: 'Add <ct>…</ct> to the item, or remove the item.',
          }),
        );
      } else {
        const prev = firstCt.get(ct);
        if (prev) {
          out.push(
            new ProvError('PP_DIR_CT_DUPLICATE', `ct "${ct}" is already used by the contact at line ${prev.pos.line}; ct "cannot be null or duplicated" (Administrator's Guide, local contact directory)`, {
              ...at(posOf(c, 'ct')),
              hint: 'Merge the two contacts or give each its own ct.',
            }),
          );
        } else firstCt.set(ct, c);
      }
      for (const f of NAME_FIELDS) {
        const v = c[f];
        if (v === undefined) continue;
        const bytes = Buffer.byteLength(v, 'utf8');
        if (bytes > MAX_NAME_BYTES) {
          out.push(
            new ProvError('PP_DIR_NAME_TOO_LONG', `<${f}> is ${bytes} UTF-8 bytes; the phone holds at most ${MAX_NAME_BYTES}`, {
              ...at(posOf(c, f)),
              hint: 'Shorten it (accented letters take 2 bytes, most CJK characters 3).',
            }),
          );
        }
      }
      if (c.sd !== undefined && c.sd.trim() !== '' && !inRange(c.sd, 1, sdMax)) {
        out.push(
          new ProvError('PP_DIR_SD_RANGE', `speed-dial index <sd>${c.sd}</sd> is outside 1–${sdMax}${sdMax === 99 ? ` (the ${info!.name} allows at most 99)` : ''}`, {
            ...at(posOf(c, 'sd')),
            hint: `Use a whole number from 1 to ${sdMax}, or leave <sd/> empty.`,
          }),
        );
      }
      if (c.rt !== undefined && c.rt.trim() !== '' && !inRange(c.rt, 1, 21)) {
        out.push(
          new ProvError('PP_DIR_RT_RANGE', `ring type <rt>${c.rt}</rt> is outside 1–21`, {
            ...at(posOf(c, 'rt')),
            hint: 'Use a ring type from 1 to 21, or leave <rt/> empty for the default.',
          }),
        );
      }
      for (const f of FLAG_FIELDS) {
        const v = c[f];
        if (v === undefined || v.trim() === '' || v.trim() === '0' || v.trim() === '1') continue;
        out.push(
          new ProvError('PP_DIR_FLAG_VALUE', `<${f}>${v}</${f}> is not 0 or 1`, {
            ...at(posOf(c, f)),
            hint: `Use <${f}>0</${f}> or <${f}>1</${f}>.`,
          }),
        );
      }
    }
    const modelLimit = info?.maxContacts ?? LARGEST;
    const configured = configuredLimit(ctx, mac, model);
    const limit = configured !== undefined && configured.value < modelLimit ? configured.value : modelLimit;
    if (dir.contacts.length > limit) {
      const first = dir.contacts[limit]!;
      const who =
        limit !== modelLimit
          ? `${configured!.name}="${limit}" (${configured!.where}) limits the phone to ${limit}`
          : info
            ? `a ${info.name} holds at most ${limit} contacts`
            : `no phone model holds more than ${limit} contacts`;
      out.push(
        new ProvError('PP_DIR_TOO_MANY', `${dir.contacts.length} contacts, but ${who} (dir.local.contacts.maxNum); the phone drops the rest, starting with this one`, {
          ...at(first.pos),
          hint: info ? 'Split the directory, or use a corporate directory for the rest.' : 'Pass --model to check against the phone model that reads it.',
        }),
      );
    }
  }
  return out;
}

const indexes = new WeakMap<LintContext, { byMac: Map<string, Chain[]>; generic: Chain[] }>();
function chainIndex(ctx: LintContext): { byMac: Map<string, Chain[]>; generic: Chain[] } {
  let idx = indexes.get(ctx);
  if (!idx) {
    idx = { byMac: new Map(), generic: [] };
    for (const c of ctx.chains) {
      if (c.generic) idx.generic.push(c);
      else {
        const list = idx.byMac.get(c.phone.mac) ?? [];
        list.push(c);
        idx.byMac.set(c.phone.mac, list);
      }
    }
    indexes.set(ctx, idx);
  }
  return idx;
}

/**
 * dir.local.contacts.maxNum as the phone's chain sets it (UCS 5.x features.cfg; a `.MODEL`
 * suffixed value wins for that model, facts §2.1): the smallest over the chains that read this
 * directory — the phone's own chains for a <MAC>-directory.xml, the generic ones for the seed.
 */
function configuredLimit(ctx: LintContext, mac: string | undefined, model: ModelToken | undefined): { value: number; name: string; where: string } | undefined {
  let best: { value: number; name: string; where: string } | undefined;
  const idx = chainIndex(ctx);
  const own = mac ? (idx.byMac.get(mac) ?? []) : idx.generic;
  for (const c of own.length ? own : idx.generic) {
    const m = c.phone.model ?? model;
    const names = m ? [`dir.local.contacts.maxNum.${m}`, 'dir.local.contacts.maxNum'] : ['dir.local.contacts.maxNum'];
    for (const name of names) {
      const e = lookup(c.stack, name);
      if (!e) continue;
      if (/^\d+$/.test(e.value.trim())) {
        const value = Number(e.value);
        if (value > 0 && (!best || value < best.value)) best = { value, name, where: `${e.pos.file}:${e.pos.line}` };
      }
      break;
    }
  }
  return best;
}
