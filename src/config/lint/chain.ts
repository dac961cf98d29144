// Rule family "chain": the same parameter set in two files of one phone's chain. Not wrong, but
// only one value counts, and it is easy to edit the one that loses. Precedence, highest first
// (white paper, Default Configuration Parameter Values): <MAC>-phone.cfg, <MAC>-web.cfg, then
// CONFIG_FILES "left to right"; inside one file "top to bottom". Reported once per losing
// occurrence, at that occurrence, naming the one that wins over it.
import { ProvError } from '../../errors.ts';
import type { LintContext } from './context.ts';

export function lintChains(ctx: LintContext): ProvError[] {
  const out: ProvError[] = [];
  for (const { loser, winner } of ctx.shadows) {
    out.push(
      new ProvError('PP_PARAM_SHADOWED', `${loser.name} is also set in ${winner.pos.file}:${winner.pos.line}, which comes earlier in the phone's configuration chain and wins; this value is not used`, {
        file: loser.pos.file,
        line: loser.pos.line,
        column: loser.pos.column,
        hint: 'Keep the parameter in one file, or keep it here only if a phone reads this file without the other (precedence: <MAC>-phone.cfg, <MAC>-web.cfg, then CONFIG_FILES left to right).',
      }),
    );
  }
  // Twice in one file: the first one counts.
  for (const cfg of ctx.configs.values()) {
    for (const e of cfg.params) {
      const first = cfg.first.get(e.name)!;
      if (first === e) continue;
      out.push(
        new ProvError('PP_PARAM_SHADOWED', `${e.name} is set twice in this file; the first, at line ${first.pos.line}, wins and this value is not used`, {
          file: e.pos.file,
          line: e.pos.line,
          column: e.pos.column,
          hint: 'Remove one of the two.',
        }),
      );
    }
  }
  return out;
}
