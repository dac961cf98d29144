// Rule family "xml": files a phone could not parse (PP_CFG_XML_MALFORMED with the line and
// column the parser stopped at, PP_CFG_DUPLICATE_ATTR, PP_CFG_NOT_MASTER), and encrypted
// configuration files, which are recognised and reported as such (PP_CFG_ENCRYPTED, info),
// never as broken XML (Administrator's Guide, configuration file encryption; facts §7).
import type { ProvError } from '../../errors.ts';
import type { LintContext } from './context.ts';

export function lintXml(ctx: LintContext): ProvError[] {
  return [...ctx.fileProblems];
}
