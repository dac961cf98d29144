// Seeded random fleet commands for the model tests (issue 14, Model: cascades): three tenants, three
// site/group names, five MACs and three parameters (one a secret with XML metacharacters), so that
// adds, removes, replaces and settings collide often. The same seed gives the same commands.
import type { Mac, Scope } from '../../src/domain.ts';
import { parseScope } from '../../src/fleet/scope.ts';
import type { FleetCommand } from '../../src/fleet/types.ts';
import type { Prng } from './prng.ts';

const TENANTS = ['default', 'acme', 'beta'];
const NAMES = ['hq', 'east', 'sales'];
const MACS = ['0004f2000001', '0004f2000002', '0004f2000003', '0004f2000004', '0004f2000005'] as Mac[];

/**
 * A command generator over `r`: a tenant add/remove, a site/group add/remove, `put` phone.put's, a
 * phone remove or replace, a settings unset, and `set` settings.set's in every r.int(4 + put + set).
 */
export function randomFleetCommands(r: Prng, weights: { put: number; set: number }): () => FleetCommand {
  const pick = <T>(xs: readonly T[]): T => xs[r.int(xs.length)]!;
  const params: Array<[string, () => string]> = [['reg.1.label', () => `l${r.int(3)}`], ['reg.1.auth.password', () => `p${r.int(3)}<&`], ['tcpIpApp.sntp.address', () => `n${r.int(3)}.example`]];
  const scope = (): Scope => {
    const t = pick(TENANTS);
    switch (r.int(5)) {
      case 0: return parseScope('global');
      case 1: return parseScope(`tenant:${t}`);
      case 2: return parseScope(`site:${t}/${pick(NAMES)}`);
      case 3: return parseScope(`group:${t}/${pick(NAMES)}`);
      default: return parseScope(`phone:${pick(MACS)}`);
    }
  };
  return () => {
    const t = pick(TENANTS);
    const k = r.int(4 + weights.put + weights.set);
    if (k === 0) return { op: pick(['tenant.add', 'tenant.remove'] as const), tenant: t };
    if (k === 1) return { op: pick(['site.add', 'site.remove', 'group.add', 'group.remove'] as const), tenant: t, name: pick(NAMES) };
    if (k < 2 + weights.put) return { op: 'phone.put', phone: { mac: pick(MACS), tenant: t, ...(r.int(2) ? { site: pick(NAMES) } : {}), ...(r.int(2) ? { groups: [pick(NAMES)] } : {}), ...(r.int(2) ? { label: `x${r.int(3)}` } : {}) } };
    if (k === 2 + weights.put) return r.int(2) ? { op: 'phone.remove', mac: pick(MACS) } : { op: 'phone.replace', from: pick(MACS), to: pick(MACS) };
    if (k === 3 + weights.put) return { op: 'settings.unset', scope: scope(), names: [pick(params)[0]] };
    const [n, v] = pick(params);
    return { op: 'settings.set', scope: scope(), values: { [n]: v() } };
  };
}
