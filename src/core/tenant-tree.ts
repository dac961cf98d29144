// Tenants on the serving path (issue 14, Serving, Tenants): each tenant is served under the URL
// prefix `/<tenant>/`, and a file under the prefix comes from `ROOT/<tenant>/<path>` when it
// exists there, else from `ROOT/<path>` (a per-file overlay, so tenants share firmware and site
// files). `TenantViews.route` splits a request path into its tenant and the tenant-relative path;
// each tenant has one `TenantTree` (a TreeFiles whose paths are tenant-relative) and its own
// phone layouts and secret-file index over it, so every rule of the boot path runs unchanged on
// a tenant's view. No view reaches another tenant's folder: a path whose first segment is a
// tenant is that tenant's, so the shared fallback and listings leave every `ROOT/<tenant>/` out.
// Two files exist only in a view, never on disk (issue 14, Serving): `managed/<MAC>.cfg`, the
// fleet's rendered file for that phone, and where the tenant's tree has no master, the rendered
// default master for `000000000000.cfg` and `<MAC>.cfg` at the tenant's root.
// Without a fleet there is one view, the plain tree, and nothing here changes what is served.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DEFAULT_MASTER, isMasterName, macOfName } from '../config/phone-layout.ts';
import { safeSegments, TreeFiles, type ByteRange, type TreeFile } from '../config/tree-source.ts';
import { DEFAULT_TENANT, type Mac } from '../domain.ts';
import type { ManagedFiles, RenderedFile } from '../fleet/types.ts';
import { isManagedPath, MANAGED_DIR } from './managed-path.ts';
import type { LastMasterLookup } from './phone-layouts.ts';
import { PhoneLayouts } from './phone-layouts.ts';
import { SecretFileIndex } from './secret-files.ts';
import { tenantHoldsPath } from './tenant-paths.ts';

/** A file that exists only in a view: its bytes are held here, not on disk. */
interface VirtualFile extends TreeFile {
  body: Buffer;
}

function isVirtual(f: TreeFile): f is VirtualFile {
  return (f as VirtualFile).body !== undefined;
}

function firstSegment(rel: string): string {
  const i = rel.indexOf('/');
  return i < 0 ? rel : rel.slice(0, i);
}

/** One tenant's tree: tenant-relative paths, its own folder over the shared root. */
export class TenantTree extends TreeFiles {
  /** `acme/`, or '' for the default tenant. */
  readonly prefix: string;

  constructor(
    readonly base: TreeFiles,
    readonly tenant: string,
    private readonly views: TenantViews,
  ) {
    super(base.root, { cacheTotalBytes: 0 });
    this.prefix = tenant === DEFAULT_TENANT ? '' : `${tenant}/`;
  }

  /** Whether a tenant-relative path leads into another tenant's folder of the shared root. */
  private hidden(rel: string): boolean {
    return this.views.isTenant(firstSegment(rel));
  }

  override async find(rel: string): Promise<TreeFile | undefined> {
    return this.findNow(rel);
  }

  override findNow(rel: string): TreeFile | undefined {
    // With a fleet the managed file is always the fleet's, whatever a rendered copy on disk says.
    const fleet = this.views.fleet;
    if (fleet && isManagedPath(rel)) return this.views.virtualFile(rel, fleet.managedFile(macOfName(rel)!));
    return this.real(rel) ?? this.virtual(rel);
  }

  /** A file on disk: the tenant's own, else the shared one. */
  private real(rel: string): TreeFile | undefined {
    const base = this.base;
    if (this.prefix !== '') {
      const own = base.findNow(rel === '' ? this.tenant : this.prefix + rel);
      if (own) return { ...own, rel: own.rel.length <= this.tenant.length ? '' : own.rel.slice(this.prefix.length) };
    }
    if (rel !== '' && this.hidden(rel)) return undefined;
    return base.findNow(rel);
  }

  /** The managed file, or the default master where the tenant's tree has none. */
  private virtual(rel: string): TreeFile | undefined {
    const fleet = this.views.fleet;
    if (!fleet) return undefined;
    // The folder of the managed files, for FTP's CWD and SIZE (its files are not listed: one per MAC asked).
    if (rel === MANAGED_DIR) return this.views.managedDir;
    if (rel.includes('/') || !isMasterName(rel)) return undefined;
    if (rel !== DEFAULT_MASTER && this.real(DEFAULT_MASTER)) return undefined;
    return this.views.virtualFile(rel, fleet.defaultMaster(this.tenant));
  }

  override cached(file: TreeFile): Buffer | undefined {
    return isVirtual(file) ? file.body : this.base.cached(file);
  }

  override async load(file: TreeFile): Promise<Buffer | undefined> {
    return isVirtual(file) ? file.body : this.base.load(file);
  }

  override async contents(file: TreeFile): Promise<Buffer> {
    return isVirtual(file) ? file.body : this.base.contents(file);
  }

  override open(file: TreeFile, range?: ByteRange): Readable {
    if (isVirtual(file)) return Readable.from([range ? file.body.subarray(range.start, range.end + 1) : file.body], { objectMode: false });
    return this.base.open(file, range);
  }

  override async *chunks(file: TreeFile, range?: ByteRange): AsyncGenerator<Buffer, void, undefined> {
    if (isVirtual(file)) yield range ? file.body.subarray(range.start, range.end + 1) : file.body;
    else yield* this.base.chunks(file, range);
  }

  override async read(path: string): Promise<Buffer | null> {
    const f = this.findNow(safeSegments(path).join('/'));
    return !f || f.isDirectory ? null : this.contents(f);
  }

  override async exists(path: string): Promise<boolean> {
    const f = this.findNow(safeSegments(path).join('/'));
    return f !== undefined && !f.isDirectory;
  }

  /** Every file of the view on disk: the tenant's own, then the shared ones it does not shadow. */
  override async *list(): AsyncIterable<string> {
    const own = new Set<string>();
    const shared: string[] = [];
    for await (const rel of this.base.list()) {
      if (this.prefix !== '' && rel.startsWith(this.prefix)) own.add(rel.slice(this.prefix.length));
      else if (!this.hidden(rel)) shared.push(rel);
    }
    const all = [...own, ...shared.filter((r) => !own.has(r))].sort();
    yield* all;
  }

  /** A directory of the view for FTP LIST: the tenant's entries over the shared ones; no tenant folder. */
  override async entries(rel: string): Promise<{ name: string; size: number; mtime: Date; isDirectory: boolean }[] | undefined> {
    const dir = this.findNow(rel);
    if (!dir || !dir.isDirectory) return undefined;
    const out = new Map<string, { name: string; size: number; mtime: Date; isDirectory: boolean }>();
    for (const name of this.names(rel)) {
      const f = this.findNow(rel === '' ? name : `${rel}/${name}`);
      if (f) out.set(name, { name, size: f.size, mtime: f.mtime, isDirectory: f.isDirectory });
    }
    return [...out.values()];
  }

  /** The names in a directory of the view (no stat): own and shared, no dot files, no tenant folder. */
  names(rel: string): string[] {
    const names = new Set<string>();
    const add = (abs: string) => {
      let list: string[] = [];
      try {
        list = readdirSync(abs);
      } catch {
        return;
      }
      for (const n of list) if (!n.startsWith('.') && !(rel === '' && this.views.isTenant(n))) names.add(n);
    };
    if (this.prefix !== '') add(join(this.base.root, this.tenant, rel));
    if (rel === '' || !this.hidden(rel)) add(join(this.base.root, rel));
    // The default master a fleet renders where the tree has none is a file of the view's root too.
    if (rel === '' && this.views.fleet) names.add(DEFAULT_MASTER);
    return [...names];
  }
}

/** A tenant's view: its tree and the per-tree state of the boot path over it. */
export interface TenantView {
  tenant: string;
  /** `acme/`, or '' for the default tenant: what the audit and upload keys put before a view's path. */
  prefix: string;
  tree: TreeFiles;
  layouts: PhoneLayouts;
  secrets: SecretFileIndex;
  /** Whether a fleet is configured (tenants exist); without one every path is the default tenant's. */
  tenanted: boolean;
  /**
   * Whether a root-relative path (a stored upload's) is under this tenant's prefix. Upload keys
   * carry that prefix (the store keeps one upload per MAC, kind and path), so the same unmanaged
   * MAC under two tenants has one upload under each; the boot path checks this too, as a guard.
   */
  holds(path: string): boolean;
}

const MAX_MTIMES = 100_000;

export class TenantViews {
  readonly default: TenantView;
  private readonly views = new Map<string, TenantView>();
  /** `managed/` where the tree has no such folder. */
  readonly managedDir: TreeFile;
  /** When each rendered version was first served: its Last-Modified (RenderedFile has no date). */
  private readonly mtimes = new Map<string, Date>();

  constructor(
    readonly base: TreeFiles,
    readonly fleet: ManagedFiles | undefined,
    private readonly lookupLastMaster?: LastMasterLookup,
  ) {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    this.managedDir = { rel: MANAGED_DIR, abs: '', size: 0, mtime: now, etag: `"managed-${now.getTime().toString(16)}"`, isDirectory: true, ino: 0, mtimeMs: now.getTime(), ctimeMs: now.getTime() };
    this.default = this.make(DEFAULT_TENANT);
  }

  /** A tenant with its own prefix (the default tenant has none). */
  isTenant(name: string): boolean {
    return this.fleet !== undefined && name !== DEFAULT_TENANT && name !== '' && this.fleet.hasTenant(name);
  }

  /** The tenant a request path is under and the path within it. */
  route(rel: string): { view: TenantView; rel: string } {
    if (!this.fleet) return { view: this.default, rel };
    const first = firstSegment(rel);
    if (!this.isTenant(first)) return { view: this.default, rel };
    return { view: this.of(first), rel: rel.length === first.length ? '' : rel.slice(first.length + 1) };
  }

  /** The view of a tenant the fleet has (created on first use). */
  of(tenant: string): TenantView {
    if (tenant === DEFAULT_TENANT) return this.default;
    let v = this.views.get(tenant);
    if (!v) this.views.set(tenant, (v = this.make(tenant)));
    return v;
  }

  private make(tenant: string): TenantView {
    const tree = this.fleet ? new TenantTree(this.base, tenant, this) : this.base;
    const prefix = tenant === DEFAULT_TENANT ? '' : `${tenant}/`;
    const lookup = this.lookupLastMaster;
    // The inventory keeps the master's full path (`acme/000000000000.cfg`): this view's when under its prefix.
    const last: LastMasterLookup | undefined = lookup && (async (mac: Mac) => {
      const m = await lookup(mac);
      if (m === undefined || !this.fleet) return m;
      if (prefix !== '') return m.startsWith(prefix) ? m.slice(prefix.length) : undefined;
      return this.isTenant(firstSegment(m)) ? undefined : m;
    });
    const holds = (path: string): boolean => !this.fleet || tenantHoldsPath(tenant, path, (n) => this.isTenant(n));
    return { tenant, prefix, tree, layouts: new PhoneLayouts(tree, last), secrets: new SecretFileIndex(tree), tenanted: this.fleet !== undefined, holds };
  }

  /** A view-only file with these bytes. */
  virtualFile(rel: string, r: RenderedFile): TreeFile {
    let mtime = this.mtimes.get(r.etag);
    if (!mtime) {
      if (this.mtimes.size >= MAX_MTIMES) this.mtimes.clear();
      mtime = new Date(Math.floor(Date.now() / 1000) * 1000);
      this.mtimes.set(r.etag, mtime);
    }
    const f: VirtualFile = { rel, abs: '', size: r.body.length, mtime, etag: r.etag, isDirectory: false, ino: 0, mtimeMs: mtime.getTime(), ctimeMs: mtime.getTime(), body: r.body };
    return f;
  }
}
