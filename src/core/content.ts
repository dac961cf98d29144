// Step 5, content: what a read, stat or listing gets. A stored upload of the name (an override,
// a contact directory) is served in preference to a tree file, with locked parameters removed;
// a staging phone's `<MAC>-phone.cfg` is its enrolment file; otherwise the tree file: small ones
// from memory, images streamed. Listings show the phone-visible files of a directory
// (Administrator's Guide, Boot Server Security Policy: the phone's account "must also be able to
// list files in all directories mentioned in the <MAC-address>.cfg"). Everything is read through
// the request's tenant view (tenant-tree.ts, issue 14): its overlay tree, which also holds the
// fleet's `managed/<MAC>.cfg` and default master, and the per-tree layouts and secret index.
import { ProvError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Mac } from '../domain.ts';
import type { Store } from '../store/store.ts';
import { requestPath, type RequestContext } from './context.ts';
import type { Enrolment } from './enrolment.ts';
import { DirectoryStat, MemoryFile, StreamedFile } from './file-result.ts';
import { uploadKindOf } from '../config/phone-layout.ts';
import { isMasterRequest } from './managed-path.ts';
import { masterReader } from './phone-layouts.ts';
import { servedUpload } from './live-tree.ts';
import type { LockMatcher } from './override-lock.ts';
import { carriesCredentials, phoneOf, type AccessPolicy } from './policy.ts';
import type { Records } from './record.ts';
import type { BootResult, DirectoryEntry } from './request.ts';
import type { Uploads } from './upload.ts';

export interface ContentDeps {
  store: Store;
  uploads: Uploads;
  policy: AccessPolicy;
  enrol: Enrolment;
  records: Records;
  locks: LockMatcher | undefined;
  log: Logger;
}

export class Content {
  constructor(private readonly d: ContentDeps) {}

  /** op read or stat. */
  async read(ctx: RequestContext): Promise<BootResult> {
    const { rel, base, req } = ctx;
    const d = this.d;
    const { tree, layouts, secrets } = ctx.view;
    // A stat transfers nothing: it is neither counted active nor recorded.
    const records = req.op === 'read' ? d.records : undefined;
    const up = uploadKindOf(base);
    if (up) {
      const { key } = await d.uploads.key(ctx, up);
      if (key) {
        // The one upload-over-tree overlay (live-tree.ts), which `explain` reads through too.
        // A tree file edited after the upload supersedes it (issue 13 item 3): then the tree file is read below.
        const answer = await servedUpload(d.store, tree, key, d.locks, key.path.slice(ctx.view.prefix.length));
        // Another tenant's upload of this MAC is not this tenant's (issue 14; the key's path has the tenant's prefix: a guard).
        const served = answer && !answer.superseded && ctx.view.holds(answer.stored.key.path) ? answer : undefined;
        if (served?.stripped.length) d.log.info({ mac: up.mac, stripped: served.stripped }, 'locked parameters removed from served override');
        const stored = served?.stored;
        const body = served?.body;
        if (up.kind === 'override-phone' && (await d.enrol.applies(ctx.principal, up.mac))) {
          const enrolled = await d.enrol.render(up.mac, body, rel, ctx.view.tenant);
          d.log.info({ mac: up.mac }, 'staging phone enrolled: per-phone provisioning credentials issued');
          return new MemoryFile(enrolled, new Date(), `"enrol-${Date.now().toString(16)}"`, ctx, records).named(up.mac);
        }
        if (stored && body) {
          d.policy.checkSecretTransport(ctx, true);
          return new MemoryFile(body, stored.storedAt, `"${stored.sha256.slice(0, 32)}-${body.length.toString(16)}"`, ctx, records).named(up.mac);
        }
      }
    }
    // The master a phone asks for, found or not, decides where its uploads go (issue 13 item 4; phone-layouts.ts).
    const reader = req.op === 'read' ? masterReader(rel, ctx.id.mac, ctx.id.ua?.serial) : undefined;
    if (reader) layouts.noteMasterRead(reader, rel);
    const f = tree.findNow(rel);
    if (!f) throw ProvError.expected('PP_NOT_FOUND', `${rel} not found`);
    // Recorded in the inventory when it surely is this phone's (record.ts).
    if (reader || (req.op === 'read' && ctx.id.mac && isMasterRequest(rel) && layouts.askedIn(ctx.id.mac, rel))) ctx.masterRead = true;
    if (f.isDirectory) {
      if (req.op === 'stat') return new DirectoryStat(f.mtime, f.etag, ctx);
      throw new ProvError('PP_LISTING_REFUSED', `${rel || '/'} is a directory; listings are not served`);
    }
    // A file with a secret that only per-phone masters list is those phones' (issue 13 item 6):
    // checked here, where the file is already found (no second stat on the serving path).
    const owners = secrets.ownersKnown(f) ?? (await secrets.ownersOfFile(f));
    if (owners.length > 0) await d.policy.checkOwners(ctx, owners, false);
    if (!carriesCredentials(req.transport)) d.policy.checkSecretTransport(ctx, await secrets.holdsSecrets(f));
    // Small files come from (and go into) the tree's memory cache; images stream from disk.
    const body = req.op === 'read' ? (tree.cached(f) ?? (await tree.load(f))) : undefined;
    if (body && body.length === f.size) return new MemoryFile(body, f.mtime, f.etag, ctx, records);
    // An image's ETag is a hash of its bytes (issue 16: the same on every node), computed once per
    // version in a stream; a read waits for it the first time.
    if (req.op === 'read') await tree.settle(f);
    return new StreamedFile(tree, f, ctx, records);
  }

  /**
   * op list: a directory as this principal may see it (FTP LIST/NLST), or the one file the path
   * names. Another phone's MAC files are left out when they are not readable.
   */
  async list(ctx: RequestContext): Promise<BootResult> {
    const d = this.d;
    const { tree, secrets } = ctx.view;
    const entries = await tree.entries(ctx.rel);
    const out: DirectoryEntry[] = [];
    if (!entries) {
      // RFC 959 §4.1.3 LIST: "If the pathname specifies a file then the server should send
      // current information on the file."
      const f = tree.findNow(ctx.rel);
      const file = f && !f.isDirectory ? f : undefined;
      // A stored upload has no tree file: list it as SIZE/MDTM (a stat) see it.
      const up = file ? undefined : uploadKindOf(ctx.base);
      const key = up && (await d.uploads.key(ctx, up)).key;
      const current = key ? await d.store.uploads.current(key) : undefined;
      const stored = current && ctx.view.holds(current.key.path) ? current : undefined;
      if (!file && !stored) throw ProvError.expected('PP_NOT_FOUND', `${ctx.rel || '/'} is not a directory`);
      const owners = file ? await secrets.ownersOfFile(file) : [];
      if (owners.length > 0) await d.policy.checkOwners(ctx, owners, false);
      // Even its size and date are not for a transport without credentials outside tftpSecretAllow.
      if (!carriesCredentials(ctx.req.transport)) d.policy.checkSecretTransport(ctx, file ? await secrets.holdsSecrets(file) : true);
      out.push(file ? { name: ctx.base, size: file.size, mtime: file.mtime } : { name: ctx.base, size: stored!.size, mtime: stored!.storedAt });
    } else {
      for (const e of entries) {
        if (e.isDirectory) continue;
        if (!(await d.policy.listable(ctx, ctx.rel === '' ? e.name : `${ctx.rel}/${e.name}`))) continue;
        out.push({ name: e.name, size: e.size, mtime: e.mtime });
      }
      // The phone's own uploads live in the store, not the tree: list those in this directory
      // too, so a phone (or lftp) that stores a file and lists the directory sees it there.
      // Upload keys carry the tenant's prefix, so only this tenant's uploads match (issue 14).
      const mac = (phoneOf(ctx.principal) as Mac | undefined) ?? ctx.id.mac;
      const dir = requestPath(ctx);
      if (mac && d.policy.sameTenant(ctx, mac) && (await d.policy.visibleTo(ctx, [mac]))) {
        for (const f of await d.store.uploads.listForPhone(mac)) {
          const slash = f.key.path.lastIndexOf('/');
          const name = f.key.path.slice(slash + 1);
          if (f.key.path.slice(0, Math.max(slash, 0)) !== dir || out.some((e) => e.name === name)) continue;
          out.push({ name, size: f.size, mtime: f.storedAt });
        }
      }
    }
    d.records.completed(ctx, 'listed', 0);
    return { kind: 'listing', entries: out };
  }
}
