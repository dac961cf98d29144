// `lintTree`: every lint rule over a provisioning tree, findings ordered by file, line, column.
// One rule family per file (STYLE §1): xml, references, params, chain, device, security,
// directory, managed. The tree is read and parsed once into a LintContext; rules are pure over it.
import type { ProvError } from '../../errors.ts';
import type { TreeSource } from '../types.ts';
import { lintChains } from './chain.ts';
import { LintContext, type LintOptions } from './context.ts';
import { lintDevice, lintDeviceStaticShared } from './device.ts';
import { lintDirectories } from './directory.ts';
import { lintManaged } from './managed.ts';
import { lintParams } from './params.ts';
import { lintReferences } from './references.ts';
import { lintSecurity } from './security.ts';
import { lintXml } from './xml.ts';

export type { LintOptions } from './context.ts';

export const RULES: ReadonlyArray<(ctx: LintContext) => ProvError[]> = [lintXml, lintReferences, lintParams, lintChains, lintDevice, lintDeviceStaticShared, lintSecurity, lintDirectories, lintManaged];

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

export async function lintTree(source: TreeSource, opts: LintOptions = {}): Promise<ProvError[]> {
  const ctx = await LintContext.load(source, opts);
  const all = [...ctx.chainProblems];
  for (const rule of RULES) all.push(...rule(ctx));
  // One finding per code and place: chains of several phones can meet the same problem.
  const seen = new Set<string>();
  const out: ProvError[] = [];
  for (const e of all) {
    const k = `${e.code}\0${e.file ?? ''}\0${e.line ?? 0}\0${e.column ?? 0}\0${e.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  return out.sort(compareFindings);
}

export function compareFindings(a: ProvError, b: ProvError): number {
  const fa = a.file ?? '';
  const fb = b.file ?? '';
  if (fa !== fb) return fa < fb ? -1 : 1;
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0) || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
}

export interface LintSummary {
  errors: number;
  warnings: number;
  infos: number;
}

export function summarize(findings: readonly ProvError[]): LintSummary {
  const s: LintSummary = { errors: 0, warnings: 0, infos: 0 };
  for (const f of findings) {
    if (f.severity === 'error') s.errors++;
    else if (f.severity === 'warning') s.warnings++;
    else s.infos++;
  }
  return s;
}
