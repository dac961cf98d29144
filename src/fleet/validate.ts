// Checking a managed setting before it is stored (issue 14, Model): the name against the
// parameter catalogue (an unknown name is refused with the nearest known one, since a phone
// silently ignores names it does not know), the value against the parameter's type and range,
// and characters an XML file cannot carry. Indexed names (`reg.N.*`, `voIpProt.server.N.*`) are
// catalogued as patterns, so any line number is accepted as lint accepts it; a zero-padded index
// (`reg.01.…`) is not a name phones know.
import { ProvError } from '../errors.ts';
import { isSecretParam, lookupParam, nearestParam, validateParamValue, type ParamDef } from '../config/params.ts';

export { checkFleetName } from './scope.ts';

/** What is wrong with a setting, without throwing (the CSV import collects these per cell). */
export interface SettingProblem {
  code: 'PP_FLEET_PARAM_UNKNOWN' | 'PP_FLEET_PARAM_INVALID';
  /** Text without the parameter name: `unknown parameter "x" (did you mean "y"?)`, `70000 is above …`. */
  message: string;
  hint?: string;
}

const NAME_SHAPE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** The allowed values of a parameter, in words. */
export function allowedText(def: ParamDef): string {
  switch (def.type) {
    case 'boolean':
      return '0 or 1';
    case 'integer':
      if (def.min !== undefined && def.max !== undefined) return `a whole number from ${def.min} to ${def.max}`;
      if (def.min !== undefined) return `a whole number ≥ ${def.min}`;
      if (def.max !== undefined) return `a whole number ≤ ${def.max}`;
      return 'a whole number';
    case 'enum':
      return `one of ${(def.values ?? []).join(', ')}`;
    case 'time':
      return 'a time of day HH:MM';
    case 'ip':
      return 'an IP address';
    case 'hostname':
      return 'a host name or IP address';
    case 'url':
      return 'a URL or host name';
    default:
      return 'text';
  }
}

function badChar(value: string): number | undefined {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c;
    if (c === 0xfffe || c === 0xffff) return c;
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = value.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
      else return c;
    } else if (c >= 0xdc00 && c <= 0xdfff) return c;
  }
  return undefined;
}

function unknown(name: string, near: string | undefined): SettingProblem {
  return {
    code: 'PP_FLEET_PARAM_UNKNOWN',
    message: `unknown parameter "${name}"${near ? ` (did you mean "${near}"?)` : ''}`,
    hint: near ? undefined : "Check the name against Polycom's templates for your software version.",
  };
}

/**
 * A parameter name checked once, for many values (the CSV import checks a column's name once, then
 * each cell's value): `problem` when the name itself is refused, else `value(v)` checks one value.
 */
export function settingNameCheck(name: string): { problem: SettingProblem } | { problem?: undefined; secret: boolean; value(value: string): SettingProblem | undefined } {
  if (!NAME_SHAPE.test(name)) return { problem: unknown(name, name.trim() !== name && lookupParam(name.trim()) ? name.trim() : undefined) };
  const segs = name.split('.');
  if (segs.some((s) => /^0\d+$/.test(s))) {
    const fixed = segs.map((s) => (/^0\d+$/.test(s) ? String(Number(s)) : s)).join('.');
    return { problem: unknown(name, lookupParam(fixed) ? fixed : nearestParam(fixed)) };
  }
  const def = lookupParam(name);
  if (!def) return { problem: unknown(name, nearestParam(name)) };
  const secret = isSecretParam(name);
  return { secret, value: (value) => valueProblem(def, secret, value) };
}

function valueProblem(def: ParamDef, secret: boolean, value: string): SettingProblem | undefined {
  const c = badChar(value);
  if (c !== undefined) {
    return {
      code: 'PP_FLEET_PARAM_INVALID',
      message: `the value contains U+${c.toString(16).toUpperCase().padStart(4, '0')}, which a configuration file cannot carry`,
      hint: 'Remove control characters from the value.',
    };
  }
  const problem = validateParamValue(def, value);
  // A type only guessed from template defaults is not a reason to refuse (lint only warns on it).
  if (problem === undefined || def.inferred) return undefined;
  return {
    code: 'PP_FLEET_PARAM_INVALID',
    message: `${secret ? 'the value does not fit the parameter type' : problem}; allowed: ${allowedText(def)}`,
  };
}

/** Undefined when the setting may be stored, else what is wrong (never quoting a secret's value). */
export function settingProblem(name: string, value: string): SettingProblem | undefined {
  const n = settingNameCheck(name);
  return n.problem ?? n.value(value);
}

/**
 * Checks one managed setting against the catalogue: PP_FLEET_PARAM_UNKNOWN (naming the nearest
 * known name) or PP_FLEET_PARAM_INVALID (saying what is allowed). Returns whether it is a secret,
 * which the fleet seals before storing.
 */
export function checkSetting(name: string, value: string): { secret: boolean } {
  const p = settingProblem(name, value);
  if (p) throw new ProvError(p.code, p.code === 'PP_FLEET_PARAM_UNKNOWN' ? p.message : `${name}: ${p.message}`, p.hint ? { hint: p.hint } : {});
  return { secret: isSecretParam(name) };
}

/** Checks a name alone (for `settings unset`, where there is no value): PP_FLEET_PARAM_UNKNOWN. */
export function checkSettingName(name: string): { secret: boolean } {
  const p = settingProblem(name, '');
  if (p && p.code === 'PP_FLEET_PARAM_UNKNOWN') throw new ProvError(p.code, p.message, p.hint ? { hint: p.hint } : {});
  return { secret: isSecretParam(name) };
}
