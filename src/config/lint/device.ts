// Rule family "device": device.* values are stored in the phone's flash only when device.set="1"
// and the value's own device.<name>.set="1" are in effect (white paper, device.set; facts §2.4).
// A device value without them is silently not applied: warn, at the value, for every phone chain
// it wins in (and for files no chain reads, within the file alone).
// A static IP address, gateway or host name applied from a file several phones read gives them all
// the same one: white paper, Configuring Device Settings in Flash Memory, "Some errors, such as
// statically setting the phone's IP address, may require you to change the local settings on each
// affected phone" — the one device.set mistake the white paper names. Warn at the value.
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

/** One phone's own network identity (UCS 5.x device.cfg names; facts §7): never the same on two phones. */
const STATIC_IDENTITY = new Set([
  'device.net.ipAddress', 'device.net.IPgateway', 'device.net.ipv6Address', 'device.net.ipv6Gateway', 'device.hostname',
  'device.usbnet.ipAddress', 'device.usbnet.ipGateway', 'device.usbnet.ipv6Address', 'device.usbnet.ipv6Gateway',
  'device.wifi.ipAddress', 'device.wifi.ipGateway', 'device.wifi.ipv6Address', 'device.wifi.ipv6Gateway',
]);

function applied(stack: Stack | null, e: ParamEntry): boolean {
  return lookup(stack, e.name) === e && lookup(stack, 'device.set')?.value === '1' && lookup(stack, `${e.name}.set`)?.value === '1';
}

export function lintDeviceStaticShared(ctx: LintContext): ProvError[] {
  const out: ProvError[] = [];
  for (const path of ctx.sharedReaders().keys()) {
    const cfg = ctx.configs.get(path);
    if (!cfg) continue;
    for (const e of deviceValuesOf(cfg)) {
      if (!STATIC_IDENTITY.has(e.name)) continue;
      if (!ctx.chains.some((c) => c.files.includes(path) && applied(c.stack, e))) continue;
      out.push(
        new ProvError('PP_PARAM_DEVICE_STATIC_SHARED', `${e.name}="${e.value}" is stored in the flash of every phone that reads ${path}, and more than one does: they all take the same ${e.name === 'device.hostname' ? 'host name' : 'address'} (white paper, Configuring Device Settings in Flash Memory: statically setting the phone's IP address "may require you to change the local settings on each affected phone")`, {
          file: e.pos.file,
          line: e.pos.line,
          column: e.pos.column,
          hint: 'Set a phone\'s own address, gateway or host name only in its own file (phones/[PHONE_MAC_ADDRESS].cfg or a <MAC>.cfg master), or leave addressing to DHCP.',
        }),
      );
    }
  }
  return out;
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
