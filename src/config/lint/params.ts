// Rule family "params": parameter names the catalogue does not know (a warning naming the
// nearest known name: the phone silently ignores names it does not know, so a typo loses the
// setting) and values outside the parameter's type or range. A value checked against a type only
// guessed from template defaults is a warning; against a documented type, an error.
import { ProvError } from '../../errors.ts';
import { isSecretParam, lookupParam, nearestParam, validateParamValue } from '../params.ts';
import type { LintContext } from './context.ts';

export function lintParams(ctx: LintContext): ProvError[] {
  const out: ProvError[] = [];
  for (const cfg of ctx.configs.values()) {
    for (const e of cfg.params) {
      const where = { file: e.pos.file, line: e.pos.line, column: e.pos.column };
      const def = lookupParam(e.name);
      if (!def) {
        const near = nearestParam(e.name);
        out.push(
          new ProvError('PP_PARAM_UNKNOWN', `${e.name} is not in the parameter catalogue; a phone ignores names it does not know`, {
            ...where,
            hint: near ? `Did you mean ${near}?` : "Check the name against Polycom's templates for your software version.",
          }),
        );
        continue;
      }
      const problem = validateParamValue(def, e.value);
      if (problem === undefined) continue;
      const secret = isSecretParam(e.name);
      out.push(
        new ProvError('PP_PARAM_BAD_VALUE', `${e.name}: ${secret ? 'the value does not fit the parameter type' : problem}${def.inferred ? ' (type inferred from the templates)' : ''}`, {
          ...where,
          severity: def.inferred ? 'warning' : 'error',
          hint: hintFor(def),
        }),
      );
    }
  }
  return out;
}

function hintFor(def: NonNullable<ReturnType<typeof lookupParam>>): string {
  switch (def.type) {
    case 'boolean':
      return 'Use "0" or "1".';
    case 'enum':
      return `Use one of: ${(def.values ?? []).join(', ')}.`;
    case 'integer':
      return def.min !== undefined || def.max !== undefined ? `Use a whole number${def.min !== undefined ? ` ≥ ${def.min}` : ''}${def.max !== undefined ? ` ≤ ${def.max}` : ''}.` : 'Use a whole number.';
    case 'time':
      return 'Use a 24-hour time HH:MM, e.g. "03:00".';
    default:
      return `Expected ${def.type}${def.source ? ` (${def.source})` : ''}.`;
  }
}
