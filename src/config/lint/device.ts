// Rule family "device": device.* values are stored in the phone's flash only when device.set="1"
// and the value's own device.<name>.set="1" are in effect (white paper, device.set; facts §2.4).
// A device value without them is silently not applied: warn, at the value, for every phone chain
// it wins in (and for files no chain reads, within the file alone).
import { ProvError } from '../../errors.ts';
import type { ParamEntry } from '../types.ts';
import { lookup, type ConfigFileInfo, type LintContext, type Stack } from './context.ts';

function isDeviceValue(e: ParamEntry): boolean {
  return e.name.startsWith('device.') && e.name !== 'device.set' && !e.name.endsWith('.set') && e.value !== '';
}

const deviceEntries = new WeakMap<ConfigFileInfo, ParamEntry[]>();
function deviceValuesOf(cfg: ConfigFileInfo): ParamEntry[] {
  let list = deviceEntries.get(cfg);
  if (!list) deviceEntries.set(cfg, (list = [...cfg.first.values()].filter(isDeviceValue)));
  return list;
}

export function lintDevice(ctx: LintContext): ProvError[] {
  const out: ProvError[] = [];
  const seen = new Set<ParamEntry>();
  const checked = new Set<Stack>();
  const check = (stack: Stack | null) => {
    if (!stack || checked.has(stack)) return;
    checked.add(stack);
    for (let s: Stack | null = stack; s; s = s.rest) {
      for (const e of deviceValuesOf(s.file)) {
        if (seen.has(e) || lookup(stack, e.name) !== e) continue;
        const global = lookup(stack, 'device.set');
        const own = lookup(stack, `${e.name}.set`);
        if (global?.value === '1' && own?.value === '1') continue;
        seen.add(e);
        const missing = [global?.value === '1' ? '' : 'device.set="1"', own?.value === '1' ? '' : `${e.name}.set="1"`].filter(Boolean);
        out.push(
          new ProvError('PP_PARAM_DEVICE_NOT_SET', `${e.name} is not applied: device.* values reach the phone's flash only with device.set="1" and ${e.name}.set="1" (white paper, device.set)`, {
            file: e.pos.file,
            line: e.pos.line,
            column: e.pos.column,
            hint: `Add ${missing.join(' and ')} in the same chain, or remove the value.`,
          }),
        );
      }
    }
  };
  for (const chain of ctx.chains) check(chain.stack);
  for (const cfg of ctx.unreferencedConfigs()) check({ file: cfg, rest: null });
  return out;
}
