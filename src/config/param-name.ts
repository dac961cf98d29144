// Parameter names as the catalogue keys them: numeric index segments become `x`
// (`reg.1.auth.password` → `reg.x.auth.password`), and a trailing model suffix is split off
// (`dir.local.contacts.maxNum.VVX1500`, SIP 2.x `voice.handset.rxag.adjust.IP_650`: facts §2.1,
// "Model-specific parameter values use a suffix"). Shared by params.ts and the catalogue build script.
import { normalizeModel } from './models.ts';
import type { ModelToken } from './types.ts';

export interface ParamNameParts {
  /** Catalogue key: indexes replaced by `x`, model suffix removed. */
  pattern: string;
  /** The name without its model suffix, indexes kept. */
  base: string;
  /** Model token of a trailing suffix, normalised (`IP_650` → `SPIP650`). */
  model?: ModelToken;
  /** The numeric indexes, in order. */
  indexes: number[];
}

// A suffix must look like a model spelling, so `...maxSize.2meg` or `...enabled` are never taken
// for one; the candidate is then confirmed against the model catalogue.
const MODEL_SUFFIX_SHAPE = /^(SPIP_?\d+|SSIP_?\d+|IP_\d+|VVX_?\d+|Trio_?\d+|SSDuo)$/i;

/** The model token of a trailing `.MODEL` segment, if the segment is one. */
export function modelSuffixOf(segment: string): ModelToken | undefined {
  if (!MODEL_SUFFIX_SHAPE.test(segment)) return undefined;
  return normalizeModel(segment);
}

export function splitParamName(name: string): ParamNameParts {
  const segs = name.split('.');
  let model: ModelToken | undefined;
  if (segs.length > 1) {
    const m = modelSuffixOf(segs[segs.length - 1]!);
    if (m) {
      model = m;
      segs.pop();
    }
  }
  const base = segs.join('.');
  const indexes: number[] = [];
  for (let i = 0; i < segs.length; i++) {
    if (/^\d+$/.test(segs[i]!)) {
      indexes.push(Number(segs[i]));
      segs[i] = 'x';
    }
  }
  const parts: ParamNameParts = { pattern: segs.join('.'), base, indexes };
  if (model) parts.model = model;
  return parts;
}

/** Catalogue key of a parameter name. */
export function paramPattern(name: string): string {
  return splitParamName(name).pattern;
}

// Secrets by name, for names the catalogue lacks too: passwords, PINs, passphrases, secrets, and
// encryption keys (`device.sec.configEncryption.key`, facts §7). Plain `key` is not enough: in
// `log.level.change.key` or `call.internationalPrefix.key` it means a keypad key.
const SECRET_LAST = /(password|passwd|passphrase|secret|pin|pwd|privateKey|apiKey|accessToken)$/i;
const SECRET_KEY = /(encryption|crypt|TLS\.key|\.psk)\.key$|\.(psk|presharedKey)$|\.wep\.key\d$/i;

/** Whether a parameter name (pattern or concrete) names a secret. `.set` flags never do. */
export function guessSecret(name: string): boolean {
  const { pattern } = splitParamName(name);
  if (pattern.endsWith('.set')) return false;
  const last = pattern.slice(pattern.lastIndexOf('.') + 1);
  return SECRET_LAST.test(last) || SECRET_KEY.test(pattern);
}
