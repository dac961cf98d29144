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
  /** The managed fleet's view of the phone (issue 14), when state with a fleet was read. */
  managed?: { tenant: string; managed: boolean; file: string | null; listed: boolean };
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

/**
 * The managed fleet's part (issue 14): the phone's tenant, whether the fleet manages it, and per
 * parameter its `managed/<MAC>.cfg` sets, the scope that set it and the managed values it shadowed
 * (clear values: masked when shown, like every value).
 */
export interface ManagedExplained {
  tenant: string;
  managed: boolean;
  settings: Map<string, ManagedSetting>;
}

export interface ManagedSetting {
  scope: string;
  secret: boolean;
  shadowed: Array<{ scope: string; value: string }>;
}

export interface ExplainExtras {
  stored?: StoredUploadView[] | null;
  note?: string;
  managed?: ManagedExplained;
}

/** `managed/<MAC>.cfg` under any master directory: the file polyprov renders from the fleet. */
export function isManagedFile(file: string): boolean {
  return /(^|\/)managed\/[0-9a-fA-F]{12}\.cfg$/.test(file);
}

/** The scope that set a parameter, when the phone's managed file set it. */
export function managedScope(name: string, file: string, managed: ManagedExplained | undefined): ManagedSetting | undefined {
  return managed && isManagedFile(file) ? managed.settings.get(name) : undefined;
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
  /** The managed scope that set it (`site:hq`), when the phone's managed/<MAC>.cfg did (issue 14). */
  scope?: string;
  /** Lower values it beats, highest first: lower managed scopes (with `scope`; line 0, they are not in a file) then files. */
  shadowed: { value: string; scope?: string; source: { file: string; line: number } }[];
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

/** The managed file as the phone reads it: `file` is its CONFIG_FILES path, null (`listed` false) when the master does not list it. */
function managedJson(r: Resolution, m: ManagedExplained): { tenant: string; managed: boolean; file: string | null; listed: boolean } {
  const entry = r.configFiles.find((c) => !c.url && isManagedFile(c.name));
  return { tenant: m.tenant, managed: m.managed, file: entry ? entry.name : null, listed: entry !== undefined };
}

export function toExplainJson(r: Resolution, opts: { showSecrets: boolean } & ExplainExtras): ExplainJson {
  const params: Record<string, ExplainParam> = {};
  for (const name of [...r.params.keys()].sort()) {
    const p = r.params.get(name)!;
    const m = managedScope(name, p.source.file, opts.managed);
    const show = (v: string) => (m?.secret && !opts.showSecrets ? SECRET_MASK : displayValue(name, v, opts.showSecrets));
    const out: ExplainParam = {
      value: show(p.value),
      source: { ...src(p.source), ...(uploadSource(p.source.file, opts.stored) ? { upload: uploadSource(p.source.file, opts.stored)! } : {}) },
      ...(m ? { scope: m.scope } : {}),
      shadowed: [
        ...(m ? m.shadowed.map((s) => ({ value: show(s.value), scope: s.scope, source: { file: p.source.file, line: 0 } })) : []),
        ...p.shadowed.map((s) => ({ value: show(s.value), source: src(s.source) })),
      ],
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
    ...(opts.managed ? { managed: managedJson(r, opts.managed) } : {}),
    params,
  };
}
