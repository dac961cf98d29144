// Scopes of managed settings (issue 14, Model): the text forms `global`, `tenant:T`, `site:S`,
// `site:T/S`, `group:G`, `group:T/G`, `phone:MAC` parsed and printed, a Map key per scope, and a
// phone's scopes in precedence order (phone, groups in the phone's order, site, tenant, global).
import { DEFAULT_TENANT, FLEET_NAME, type ManagedPhone, type Scope, type ScopeKind } from '../domain.ts';
import { ProvError } from '../errors.ts';
import { parseMac } from '../config/models.ts';

const FORMS = 'global, tenant:T, site:S, site:T/S, group:G, group:T/G or phone:MAC';

function invalid(text: string, why: string): ProvError {
  return new ProvError('PP_FLEET_SCOPE_INVALID', `scope "${text}": ${why}`, { hint: `Write the scope as ${FORMS} (names: a-z, 0-9, _ and -, at most 63 characters).` });
}

/** Checks a tenant, site or group name; throws PP_FLEET_SCOPE_INVALID naming the kind. */
export function checkFleetName(kind: 'tenant' | 'site' | 'group', name: string): string {
  if (!FLEET_NAME.test(name)) {
    throw new ProvError('PP_FLEET_SCOPE_INVALID', `${kind} name "${name}" is not valid: a ${kind} name is 1–63 characters of a-z, 0-9, _ and -, starting with a letter or digit`, {
      hint: kind === 'tenant' ? 'A tenant name is a URL prefix (/<tenant>/), so it must be URL-safe.' : 'Use lowercase letters, digits, _ and -.',
    });
  }
  return name;
}

/**
 * Parses a scope's text form. `site:hq` and `group:sales` are of `tenant` (default: the default
 * tenant); `site:acme/hq` names the tenant. `phone:MAC` takes any MAC spelling and normalises it;
 * its tenant is `tenant` (default: the default tenant) — the phone's real tenant is the fleet's to
 * know, and scopeKey() of a phone scope does not depend on it.
 */
export function parseScope(text: string, tenant: string = DEFAULT_TENANT): Scope {
  const t = text.trim();
  if (t.toLowerCase() === 'global') return { kind: 'global', tenant: '', name: '' };
  const colon = t.indexOf(':');
  if (colon < 0) throw invalid(text, 'no kind before ":"');
  const kind = t.slice(0, colon).toLowerCase();
  const rest = t.slice(colon + 1);
  if (rest === '') throw invalid(text, `nothing after "${kind}:"`);
  const nameCheck = (k: 'tenant' | 'site' | 'group', n: string): string => {
    if (!FLEET_NAME.test(n)) throw invalid(text, `${k} name "${n}" is not valid`);
    return n;
  };
  switch (kind) {
    case 'tenant':
      nameCheck('tenant', rest);
      return { kind: 'tenant', tenant: rest, name: rest };
    case 'site':
    case 'group': {
      const slash = rest.indexOf('/');
      const ten = slash < 0 ? tenant : rest.slice(0, slash);
      const name = slash < 0 ? rest : rest.slice(slash + 1);
      nameCheck('tenant', ten);
      nameCheck(kind, name);
      return { kind, tenant: ten, name };
    }
    case 'phone': {
      const mac = parseMac(rest);
      if (!mac) throw invalid(text, `"${rest}" is not a MAC address (12 hex digits, with or without : - or . separators)`);
      nameCheck('tenant', tenant);
      return { kind: 'phone', tenant, name: mac };
    }
    default:
      throw invalid(text, `unknown kind "${kind}"`);
  }
}

/** The text form: the key (below), but sites and groups of the default tenant print without it (`site:hq`). */
export function formatScope(s: Scope): string {
  return (s.kind === 'site' || s.kind === 'group') && s.tenant === DEFAULT_TENANT ? `${s.kind}:${s.name}` : scopeKey(s);
}

/**
 * A key naming the scope exactly, for Maps and the secret box's AAD: `global`, `tenant:T`,
 * `site:T/S`, `group:T/G`, `phone:MAC` (a MAC belongs to one tenant, so its key omits the tenant).
 */
export function scopeKey(s: Scope): string {
  switch (s.kind) {
    case 'global':
      return 'global';
    case 'tenant':
      return `tenant:${s.tenant}`;
    case 'site':
    case 'group':
      return `${s.kind}:${s.tenant}/${s.name}`;
    case 'phone':
      return `phone:${s.name}`;
  }
}

const scope = (kind: ScopeKind, tenant: string, name: string): Scope => ({ kind, tenant, name });

/** A phone's scopes, highest precedence first: phone, its groups in order, its site, its tenant, global. */
export function phoneScopes(p: ManagedPhone): Scope[] {
  const out: Scope[] = [scope('phone', p.tenant, p.mac)];
  for (const g of p.groups) out.push(scope('group', p.tenant, g));
  if (p.site) out.push(scope('site', p.tenant, p.site));
  out.push(scope('tenant', p.tenant, p.tenant));
  out.push(scope('global', '', ''));
  return out;
}
