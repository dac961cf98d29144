// A phone's effective managed settings (issue 14, Model and explain): for every parameter set at
// any of its scopes, the value of the highest one (phone, groups in the phone's order, site,
// tenant, global), the scope that set it, and what it shadowed below, highest first. Pure: the
// caller passes what each scope holds, already opened (clear values), and masks secrets itself.
import type { ManagedPhone } from '../domain.ts';
import { formatScope, phoneScopes, scopeKey } from './scope.ts';
import type { EffectiveSetting } from './types.ts';

export type ScopeValues = ReadonlyMap<string, { value: string; secret: boolean }>;

/** Effective settings, sorted by name (code-unit order, so equal data gives equal output everywhere). */
export function effectiveSettings(phone: ManagedPhone, at: (scopeKey: string) => ScopeValues | undefined): EffectiveSetting[] {
  const byName = new Map<string, EffectiveSetting>();
  for (const scope of phoneScopes(phone)) {
    const values = at(scopeKey(scope));
    if (!values) continue;
    const text = formatScope(scope);
    for (const [name, v] of values) {
      const have = byName.get(name);
      if (have) have.shadowed.push({ scope: text, value: v.value });
      else byName.set(name, { name, value: v.value, secret: v.secret, scope: text, shadowed: [] });
    }
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
