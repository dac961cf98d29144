// The exact `polyprov explain --json` object of issue 3, with the phone's stored uploads (issue 13
// items 2 and 3). Secrets are masked unless asked for; credentials inside URLs are always hidden
// ("credentials never printed", issue 3).
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
  /** The phone's stored uploads and whether each is served, or null when no store was read. */
  stored: Array<Omit<StoredUploadView, 'storedAt'> & { storedAt: string }> | null;
  /** What the answer leaves out ("no stored uploads included …"). */
  notes: string[];
  params: Record<string, ExplainParam>;
}

/** A stored upload as explain shows it (filled in by the core, which reads the store). */
export interface StoredUploadView {
  kind: UploadKind;
  path: string;
  version: number;
  storedAt: Date;
  address: string;
  /** Whether the phone gets this upload (false: a later edit of the tree file is served). */
  served: boolean;
  why: string;
  /** Locked parameters removed from the served copy (lockedParams). */
  stripped: string[];
}

export interface ExplainExtras {
  stored?: StoredUploadView[] | null;
  note?: string;
}

/** `upload 0004f2000001-phone.cfg, stored <time> from <address>`: a parameter's source when a served upload set it. */
export function uploadSource(file: string, stored: readonly StoredUploadView[] | null | undefined): string | undefined {
  const u = stored?.find((x) => x.served && x.path === file);
  return u && `upload ${file.slice(file.lastIndexOf('/') + 1)}, stored ${u.storedAt.toISOString()} from ${u.address}`;
}

export const UPLOAD_KINDS: readonly UploadKind[] = ['override-phone', 'override-web', 'directory', 'log-boot', 'log-app', 'calls'];

export interface ExplainParam {
  value: string;
  /** `upload` names the stored upload that set it (`upload <MAC>-phone.cfg, stored <time> from <address>`). */
  source: { file: string; line: number; upload?: string };
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

export function toExplainJson(r: Resolution, opts: { showSecrets: boolean } & ExplainExtras): ExplainJson {
  const params: Record<string, ExplainParam> = {};
  for (const name of [...r.params.keys()].sort()) {
    const p = r.params.get(name)!;
    const out: ExplainParam = {
      value: displayValue(name, p.value, opts.showSecrets),
      source: { ...src(p.source), ...(uploadSource(p.source.file, opts.stored) ? { upload: uploadSource(p.source.file, opts.stored)! } : {}) },
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
    stored: opts.stored ? opts.stored.map((u) => ({ ...u, storedAt: u.storedAt.toISOString() })) : null,
    notes: opts.note ? [opts.note] : [],
    params,
  };
}
