// The exact `polyprov explain --json` object of issue 3. Secrets are masked unless asked for;
// credentials inside URLs are always hidden ("credentials never printed", issue 3).
import type { UploadKind } from '../domain.ts';
import { maskUrlCredentials } from './master-file.ts';
import { uploadPath } from './phone-layout.ts';
import { isSecretParam } from './params.ts';
import type { Resolution } from './resolver.ts';
import type { SourcePos } from './types.ts';

export const SECRET_MASK = '********';

export interface ExplainJson {
  master: { file: string; reason: string } | null;
  application: string | null;
  configFiles: { name: string; found: boolean }[];
  directories: { logs: string; overrides: string; contacts: string; licenses: string };
  directory: string | null;
  /** Where each of the phone's uploads goes (phone-layout.ts): exactly the paths the boot server accepts. */
  uploads: Record<UploadKind, string>;
  params: Record<string, ExplainParam>;
}

export const UPLOAD_KINDS: readonly UploadKind[] = ['override-phone', 'override-web', 'directory', 'log-boot', 'log-app', 'calls'];

export interface ExplainParam {
  value: string;
  source: { file: string; line: number };
  shadowed: { value: string; source: { file: string; line: number } }[];
  applied: boolean;
  reason?: string;
}

/** A parameter value as it may be shown: masked when secret, URL passwords hidden. */
export function displayValue(name: string, value: string, showSecrets: boolean): string {
  if (showSecrets) return value;
  if (isSecretParam(name)) return SECRET_MASK;
  return maskUrlCredentials(value);
}

const src = (p: SourcePos) => ({ file: p.file, line: p.line });

export function toExplainJson(r: Resolution, opts: { showSecrets: boolean }): ExplainJson {
  const params: Record<string, ExplainParam> = {};
  for (const name of [...r.params.keys()].sort()) {
    const p = r.params.get(name)!;
    const out: ExplainParam = {
      value: displayValue(name, p.value, opts.showSecrets),
      source: src(p.source),
      shadowed: p.shadowed.map((s) => ({ value: displayValue(name, s.value, opts.showSecrets), source: src(s.source) })),
      applied: p.applied,
    };
    if (p.reason !== undefined) out.reason = p.reason;
    params[name] = out;
  }
  return {
    master: r.master ? { file: r.master.file, reason: r.master.reason } : null,
    application: r.application === null ? null : maskUrlCredentials(r.application),
    configFiles: r.configFiles.map((c) => ({ name: maskUrlCredentials(c.name), found: c.found })),
    directories: {
      logs: maskUrlCredentials(r.directories.logs),
      overrides: maskUrlCredentials(r.directories.overrides),
      contacts: maskUrlCredentials(r.directories.contacts),
      licenses: maskUrlCredentials(r.directories.licenses),
    },
    directory: r.directory === null ? null : maskUrlCredentials(r.directory),
    uploads: Object.fromEntries(UPLOAD_KINDS.map((k) => [k, maskUrlCredentials(uploadPath(r.layout, k))])) as Record<UploadKind, string>,
    params,
  };
}
