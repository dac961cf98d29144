// Parameter definitions and value checking, kept apart from the catalogue data so the build
// script (scripts/build-param-catalogue.ts) can use them before params.json exists.
import type { ModelToken } from './types.ts';

export type ParamType = 'string' | 'boolean' | 'integer' | 'enum' | 'ip' | 'hostname' | 'time' | 'url';

export interface ParamDef {
  /** Pattern, index placeholders as `x`: `reg.x.auth.password`. */
  name: string;
  type: ParamType;
  values?: string[];
  min?: number;
  max?: number;
  default?: string;
  /** A device.* (flash) setting: applies only with device.set="1" and its own .set="1" (facts §2.4). */
  device: boolean;
  secret: boolean;
  description: string;
  source?: string;
  /** Defaults of model-suffixed variants (`dir.local.contacts.maxNum.VVX1500="9999"`). */
  modelDefaults?: Record<ModelToken, string>;
  /** Type guessed from template defaults only: a mismatch is a warning, not an error. */
  inferred?: boolean;
  /** Type, range or values come from the documents (the overlay). */
  documented?: boolean;
}

const TIME = /^([01]?\d|2[0-3]):[0-5]\d$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * Checks a value against its parameter's type. Undefined = fine, else a message. An empty value
 * is always fine: templates ship most parameters empty, meaning "the built-in default".
 */
export function validateParamValue(def: ParamDef, value: string): string | undefined {
  if (value === '') return undefined;
  switch (def.type) {
    case 'boolean':
      return value === '0' || value === '1' ? undefined : `"${value}" is not a boolean; ${def.name} takes 0 or 1`;
    case 'integer': {
      if (!/^[-+]?\d+$/.test(value.trim())) return `"${value}" is not an integer`;
      const n = Number(value);
      if (def.min !== undefined && n < def.min) return `${n} is below the minimum ${def.min}${def.max !== undefined ? ` (range ${def.min}–${def.max})` : ''}`;
      if (def.max !== undefined && n > def.max) return `${n} is above the maximum ${def.max}${def.min !== undefined ? ` (range ${def.min}–${def.max})` : ''}`;
      return undefined;
    }
    case 'enum': {
      const values = def.values ?? [];
      if (values.includes(value) || values.some((v) => v.toLowerCase() === value.toLowerCase())) return undefined;
      return `"${value}" is not one of ${values.join(', ')}`;
    }
    case 'time':
      return TIME.test(value) ? undefined : `"${value}" is not a time of day HH:MM`;
    case 'ip':
      return IPV4.test(value) || value.includes(':') ? undefined : `"${value}" is not an IP address`;
    case 'hostname':
      return IPV4.test(value) || HOSTNAME.test(value) ? undefined : `"${value}" is not a host name or IP address`;
    case 'url':
      return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || HOSTNAME.test(value) ? undefined : `"${value}" is not a URL`;
    default:
      return undefined;
  }
}

