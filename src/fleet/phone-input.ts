// A phone as a face describes it (PhoneInput), checked field by field against what the fleet holds
// for that MAC (issue 14, Model): absent fields keep their stored value, '' clears one, the model
// is normalised to its master-file token, names are URL-safe, a MAC keeps its one tenant. Each
// refusal names the field — the CSV column — it is about (FleetRefusal), for `FILE:LINE: column:`.
import { normalizeModel, parseMac } from '../config/models.ts';
import { DEFAULT_TENANT, type Mac, type ManagedPhone } from '../domain.ts';
import { ProvError, type ErrorCode } from '../errors.ts';
import { checkFleetName } from './scope.ts';
import type { PhoneInput } from './types.ts';

/** A refusal about one field of a command (a CSV column: `tenant`, `site`, `groups`, a parameter name …). */
export class FleetRefusal extends ProvError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly field: string,
    hint?: string,
  ) {
    super(code, message, { hint });
  }
}

/** Runs `fn`; a ProvError it throws becomes a FleetRefusal about `field`. */
export function about<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ProvError && !(err instanceof FleetRefusal)) throw new FleetRefusal(err.code, err.message, field, err.hint);
    throw err;
  }
}

export function macOf(text: string, field: string): Mac {
  const mac = parseMac(String(text));
  if (!mac) throw new FleetRefusal('PP_FLEET_SCOPE_INVALID', `"${text}" is not a MAC address (12 hex digits, with or without : - or . separators)`, field);
  return mac;
}

/** The phone's descriptive fields after `input` (existence of tenant, site and groups is the caller's). */
export type PhoneFields = Omit<ManagedPhone, 'createdAt' | 'updatedAt'>;

export function phoneFields(input: PhoneInput, old: ManagedPhone | undefined, mac: Mac): PhoneFields {
  const tenant = input.tenant === undefined || input.tenant === '' ? (old?.tenant ?? DEFAULT_TENANT) : input.tenant;
  about('tenant', () => checkFleetName('tenant', tenant));
  if (old && old.tenant !== tenant) {
    throw new FleetRefusal('PP_FLEET_EXISTS', `phone ${mac} belongs to tenant "${old.tenant}"; a MAC belongs to one tenant`, 'tenant', `Remove it from tenant ${old.tenant} first (polyprov fleet remove ${mac}), or leave the tenant out.`);
  }
  let model = old?.model;
  if (input.model !== undefined) {
    model = input.model === '' ? undefined : normalizeModel(input.model);
    if (input.model !== '' && !model) throw new FleetRefusal('PP_FLEET_PARAM_INVALID', `model "${input.model}" is not a Polycom model polyprov knows`, 'model', 'Write the model as the phone names itself: VVX410, SPIP650, Trio8800 …');
  }
  const label = input.label === undefined ? old?.label : input.label === '' ? undefined : input.label;
  if (label !== undefined && (label.length > 200 || /[\0-\x1f\x7f]/.test(label))) throw new FleetRefusal('PP_FLEET_PARAM_INVALID', 'a label is at most 200 characters with no control characters', 'label');
  const site = input.site === undefined ? old?.site : input.site === '' ? undefined : input.site;
  if (site !== undefined) about('site', () => checkFleetName('site', site));
  const groups = input.groups === undefined ? [...(old?.groups ?? [])] : input.groups.filter((g) => g !== '');
  const seen = new Set<string>();
  for (const g of groups) {
    about('groups', () => checkFleetName('group', g));
    if (seen.has(g)) throw new FleetRefusal('PP_FLEET_SCOPE_INVALID', `group "${g}" is named twice`, 'groups');
    seen.add(g);
  }
  const out: PhoneFields = { mac, tenant, groups };
  if (model !== undefined) out.model = model;
  if (label !== undefined) out.label = label;
  if (site !== undefined) out.site = site;
  return out;
}

/** A phone's descriptive fields as one comparable, recordable text. */
export function phoneView(p: ManagedPhone | PhoneFields): string {
  return JSON.stringify({ tenant: p.tenant, model: p.model, label: p.label, site: p.site, groups: p.groups });
}
