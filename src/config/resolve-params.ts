// Effective parameters of one phone: precedence across files, model-specific names, device.set.
import { splitModelSuffix } from './config-file.ts';
import { normalizeModel } from './models.ts';
import type { ModelToken, ParamEntry, SourcePos } from './types.ts';

export interface EffectiveParam {
  value: string;
  source: SourcePos;
  /** Values this one beat, highest precedence first. */
  shadowed: { value: string; source: SourcePos }[];
  /** False for device.* values the phone would not store (see applyDeviceRule). */
  applied: boolean;
  reason?: string;
}

/** One file's parameters; files are given highest precedence first. */
export interface ParamLayer {
  file: string;
  params: ParamEntry[];
}

/**
 * Merges layers given highest precedence first (white paper, Default Configuration Parameter
 * Values: `<MAC>-phone.cfg`, then `<MAC>-web.cfg`, then the CONFIG_FILES "left to right"; inside
 * one file, "top to bottom"), so the first value met for a name wins and later ones are listed
 * as shadowed, in precedence order.
 *
 * Model-specific names (`dir.local.contacts.maxNum.VVX1500`, facts §2.1) apply only to that
 * model, under the unsuffixed name, and beat every unsuffixed value for it, whichever file holds
 * them. The documents do not state this case; we follow the rule the master file states for its
 * own `_<MODEL>` attributes (Administrator's Guide, "Supporting SoundPoint IP 300 and 500
 * Phones") and what the UCS templates rely on: features.cfg sets `dir.local.contacts.maxNum="500"`
 * beside `…maxNum.VVX1500="9999"`, which only works if the suffixed value beats the plain one.
 * Among model-specific values, and among plain ones, file precedence decides. Values suffixed
 * for another model are ignored.
 */
export function mergeParams(layers: ParamLayer[], model: ModelToken | undefined): Map<string, EffectiveParam> {
  const mine = model ? (normalizeModel(model) ?? model) : undefined;
  const byName = new Map<string, { specific: { value: string; source: SourcePos }[]; plain: { value: string; source: SourcePos }[] }>();
  for (const layer of layers) {
    for (const p of layer.params) {
      const { base, model: m } = splitModelSuffix(p.name);
      if (m !== undefined && (normalizeModel(m) ?? m) !== mine) continue;
      let slot = byName.get(base);
      if (!slot) byName.set(base, (slot = { specific: [], plain: [] }));
      (m === undefined ? slot.plain : slot.specific).push({ value: p.value, source: p.pos });
    }
  }
  const out = new Map<string, EffectiveParam>();
  for (const [name, slot] of byName) {
    const all = [...slot.specific, ...slot.plain];
    const [win, ...rest] = all;
    out.set(name, { value: win!.value, source: win!.source, shadowed: rest, applied: true });
  }
  return out;
}

/** device.* flags that are switches for the rule itself, not flash values. */
function isDeviceFlag(name: string): boolean {
  return name === 'device.set' || name.endsWith('.set');
}

/**
 * White paper, "Configuring Device Settings in Flash Memory" (device.set) and facts §2.4: a
 * `device.x` value from a file is stored only when the global `device.set="1"` and its own
 * `device.x.set="1"` are both in effect. Others stay listed, with applied=false and the reason.
 * The flags themselves (device.set, device.x.set) are ordinary values.
 */
export function applyDeviceRule(params: Map<string, EffectiveParam>): void {
  const global = params.get('device.set');
  for (const [name, p] of params) {
    if (!name.startsWith('device.') || isDeviceFlag(name)) continue;
    const own = params.get(`${name}.set`);
    if (global?.value !== '1') {
      p.applied = false;
      p.reason = `device.set is ${global ? `"${global.value}"` : 'not set'}; device.* values apply only with device.set="1" and ${name}.set="1"`;
    } else if (own?.value !== '1') {
      p.applied = false;
      p.reason = `${name}.set is ${own ? `"${own.value}"` : 'not set'}; this device value applies only with ${name}.set="1"`;
    }
  }
}
