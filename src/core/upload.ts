// Uploads (write, append, delete): phones upload only their own override files, contact
// directory, logs and call lists, each to the directory its master file names for that kind
// (white paper, Master Configuration File: OVERRIDES_DIRECTORY, CONTACTS_DIRECTORY,
// LOG_FILE_DIRECTORY, CALL_LISTS_DIRECTORY; empty = the root). An upload is size-limited and
// atomic (the store's sink: nothing is visible before commit), logs roll, and an override that
// touches a locked parameter is stored as received but flagged. Under a tenant's prefix (issue 14)
// the directories come from the tenant's view and the upload key's path carries the prefix, so
// the same MAC under two tenants never sees the other's uploads.
import type { UploadKey } from '../domain.ts';
import { isProvError, ProvError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ServerOptions } from '../options.ts';
import type { Store } from '../store/store.ts';
import type { RequestContext } from './context.ts';
import { uploadKeyFor, uploadKindOf, type UploadName } from '../config/phone-layout.ts';
import { lockedKeys, type LockMatcher } from './override-lock.ts';
import { treeVersion } from './live-tree.ts';
import type { BootResult } from './request.ts';

export class Uploads {
  constructor(
    private readonly options: Readonly<ServerOptions>,
    private readonly store: Store,
    private readonly locks: LockMatcher | undefined,
    private readonly log: Logger,
  ) {}

  /**
   * The upload key when `ctx.rel` is in the directory the phone's master file names for this
   * kind; otherwise where that directory is (for the refusal).
   */
  async key(ctx: RequestContext, up: UploadName): Promise<{ key?: UploadKey; want: string; attribute?: string; master?: string }> {
    // The phone layout (config/phone-layout.ts) of the master that governs this phone's uploads.
    const layout = await ctx.view.layouts.forUpload(ctx.rel, up.mac, ctx.id.model);
    const r = uploadKeyFor(layout, ctx.rel)!;
    const prefix = ctx.view.prefix;
    if ('key' in r) return { key: prefix === '' ? r.key : { ...r.key, path: prefix + r.key.path }, want: r.key.path };
    return { want: r.want, attribute: r.attribute, master: layout.master?.file };
  }

  /** Where a write or delete goes; refuses (PP_READ_ONLY) a name or directory phones may not upload to. */
  async target(ctx: RequestContext): Promise<void> {
    const up = uploadKindOf(ctx.base);
    const rel = ctx.rel;
    if (!up) {
      throw new ProvError('PP_READ_ONLY', ctx.req.op === 'delete' ? `${rel} is read-only` : `${rel} is read-only: phones upload only <MAC>-phone.cfg, -web.cfg, -directory.xml, -boot.log, -app.log, -calls.xml`);
    }
    const { key, want, attribute, master } = await this.key(ctx, up);
    if (!key) {
      throw new ProvError('PP_READ_ONLY', ctx.req.op === 'delete' ? `${rel} is not in this phone's upload directory` : `${rel}: this phone's ${attribute} is "${want}"${master ? ` (${master})` : ''}; uploads go there`);
    }
    if (up.kind === 'directory' && this.options.contactsReadOnly && ctx.req.op !== 'delete') {
      // White paper, CONTACT_DIRECTORY: "If the CONTACT_DIRECTORY does not allow the phone write
      // access, the phone will use the internally cached version of this file."
      throw new ProvError('PP_READ_ONLY', `${rel}: contact directories are read-only on this server (contactsReadOnly); the phone keeps its cached copy`);
    }
    ctx.upload = { name: up, key };
  }

  async write(ctx: RequestContext): Promise<BootResult> {
    const { req, rel } = ctx;
    const { name: up, key } = ctx.upload!;
    const o = this.options;
    const isLog = up.kind === 'log-app' || up.kind === 'log-boot';
    const isOverride = up.kind === 'override-phone' || up.kind === 'override-web';
    const maxBytes = isLog ? o.uploadMaxBytesLog : isOverride ? o.uploadMaxBytesOverride : up.kind === 'directory' ? o.uploadMaxBytesDirectory : o.uploadMaxBytesCalls;
    if (req.size !== undefined && req.size > maxBytes) {
      throw new ProvError('PP_UPLOAD_TOO_LARGE', `${rel}: ${req.size} bytes announced; the limit for this kind is ${maxBytes}`);
    }
    // Logs are rolling: phones upload in append mode (log.render.file.upload.append), so every
    // log upload adds to the stored log, which keeps its last logCapBytes bytes.
    // The key's path carries the tenant's prefix, so this appends to this tenant's log only (issue 14).
    const append = isLog || req.op === 'append';
    const sink = await this.store.uploads.begin(key, {
      mode: append ? 'append' : 'replace',
      address: ctx.address,
      maxBytes,
      capBytes: isLog ? o.logCapBytes : undefined,
      keepVersions: o.uploadKeepVersions,
      // The tree file this upload goes over, as it is now: a later edit of it supersedes the upload (issue 13 item 3).
      treeVersion: await treeVersion(ctx.view.tree, key.path.slice(ctx.view.prefix.length)),
    });
    const kept: Buffer[] | undefined = isOverride && this.locks ? [] : undefined;
    try {
      if (!req.body) throw new ProvError('PP_BAD_REQUEST', 'upload without a body');
      for await (const chunk of req.body) {
        if (req.signal.aborted) throw new ProvError('PP_UPLOAD_TRUNCATED', `${rel}: the phone hung up after ${sink.bytes} bytes`);
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        await sink.write(b);
        kept?.push(b);
      }
      if (req.signal.aborted) throw new ProvError('PP_UPLOAD_TRUNCATED', `${rel}: the phone hung up after ${sink.bytes} bytes`);
      if (req.size !== undefined && sink.bytes !== req.size) {
        throw new ProvError('PP_UPLOAD_TRUNCATED', `${rel}: ${sink.bytes} of ${req.size} announced bytes received; the previous version stays`);
      }
    } catch (e) {
      await sink.abort().catch(() => {});
      if (isProvError(e)) throw e;
      throw new ProvError('PP_UPLOAD_TRUNCATED', `${rel}: upload interrupted after ${sink.bytes} bytes (${(e as Error).message}); the previous version stays`, { cause: e });
    }
    const locked = kept ? lockedKeys(Buffer.concat(kept), rel, this.locks!) : [];
    const stored = await sink.commit({ locked: locked.length > 0 });
    if (isOverride) {
      // The flag reaches the inventory with this upload's sighting (record step), so a phone
      // whose first request is this upload is flagged too.
      ctx.overrideLocked = locked.length > 0;
      if (locked.length) this.log.warn({ mac: up.mac, locked }, 'override touches locked parameters; stored as received, served without them');
    }
    return { kind: 'stored', bytes: sink.bytes, sha256: stored.sha256, created: stored.version === 1 };
  }

  async remove(ctx: RequestContext): Promise<BootResult> {
    const { key } = ctx.upload!;
    const current = await this.store.uploads.current(key);
    if (!current || !ctx.view.holds(current.key.path)) throw new ProvError('PP_NOT_FOUND', `${ctx.rel} not found`);
    await this.store.uploads.clear(key);
    return { kind: 'deleted' };
  }
}
