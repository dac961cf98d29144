// The boot service: the one path every transport calls. A request goes through, in order,
// path safety, address policy, identification, authentication, access policy, content (a
// file of the tree, a rendered file, a stored upload) and audit. The core never knows which
// adapter called beyond the `transport` tag, which only feeds policy (TFTP has no
// credentials) and the audit.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { partNumberFor, parseUserAgent, type UserAgentInfo } from '../config/models.ts';
import type { Mac } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { ServerOptions } from '../options.ts';
import type { AuditEvent, Sighting, Store, UploadKey } from '../store/store.ts';
import { compileCidrs, inList, RateLimiter } from './address-policy.ts';
import { plainAddress } from '../util/address.ts';
import { AuditRecorder } from './audit.ts';
import { Authenticator, principalName, type Principal } from './authenticate.ts';
import { DigestAuthority } from './digest-auth.ts';
import { Enrolment } from './enrolment.ts';
import { errorDef, ProvError, isProvError } from '../errors.ts';
import { isMasterName, macOfName, UPLOAD_DIRECTORY, uploadKindOf, type UploadName } from './file-names.ts';
import { Metrics } from './metrics.ts';
import { compileLocks, lockedKeys, stripLocked, type LockMatcher } from './override-lock.ts';
import { joinRel, normaliseRequestPath, splitPath } from './paths.ts';
import { PhoneDirectoryIndex } from './phone-directories.ts';
import type { BootRequest, BootResult, BootService, ByteRange, DirectoryEntry, FileResult, TransferOutcome } from './request.ts';
import { SecretFileIndex } from './secret-files.ts';
import { TreeFiles } from './tree-files.ts';

export interface BootServiceDeps {
  options: Readonly<ServerOptions>;
  store: Store;
  log: Logger;
}

/** Transports that carry credentials; on the others (TFTP) the phone cannot prove who it is. */
const AUTHENTICATING = new Set(['http', 'https', 'ftp', 'ftps']);

interface Identity {
  mac?: Mac;
  ua?: UserAgentInfo;
  model?: string;
}

interface Ctx {
  req: BootRequest;
  rel: string;
  base: string;
  id: Identity;
  principal: Principal;
  started: number;
}

export class CoreBootService implements BootService {
  readonly metrics = new Metrics();
  readonly audit: AuditRecorder;
  readonly tree: TreeFiles;
  readonly auth: Authenticator;
  private readonly dirs: PhoneDirectoryIndex;
  private readonly secrets: SecretFileIndex;
  private readonly rate: RateLimiter;
  private readonly allow;
  private readonly tftpSecretAllow;
  private readonly locks: LockMatcher | undefined;
  private readonly enrol: Enrolment;
  private readonly log: Logger;
  /** Last phone seen at an address, to name requests that carry no MAC (sip.cfg, images). */
  private readonly addrMac = new Map<string, { mac: Mac; at: number; model?: string }>();
  private stagingOn: boolean;
  private stagingTimer: NodeJS.Timeout | undefined;
  private readonly ctxOf = new WeakMap<BootRequest, Ctx>();
  private readonly uaCache = new Map<string, UserAgentInfo | null>();

  private constructor(private readonly deps: BootServiceDeps, secret: Buffer, stagingOn: boolean) {
    const o = deps.options;
    this.log = deps.log;
    this.tree = new TreeFiles(o.root);
    this.dirs = new PhoneDirectoryIndex(this.tree);
    this.secrets = new SecretFileIndex(this.tree);
    this.rate = new RateLimiter(o.rateLimitPerSec, o.rateLimitBurst);
    this.allow = compileCidrs(o.allow, 'allow');
    this.tftpSecretAllow = compileCidrs(o.tftpSecretAllow, 'tftpSecretAllow');
    this.locks = compileLocks(o.lockedParams);
    this.stagingOn = stagingOn;
    this.auth = new Authenticator(deps.store, new DigestAuthority(o.realm, secret, o.digestNonceTtlMs), () => this.stagingOn);
    this.audit = new AuditRecorder(deps.store, deps.log);
    this.enrol = new Enrolment(deps.store, o.realm, this.auth, o.enrol);
  }

  static async create(deps: BootServiceDeps): Promise<CoreBootService> {
    // The digest secret is shared through the store so every node of a cluster accepts every node's nonces.
    let secretHex = await deps.store.settings.get('digest.secret');
    if (!secretHex) {
      secretHex = randomBytes(32).toString('hex');
      await deps.store.settings.set('digest.secret', secretHex);
    }
    const staging = await stagingSetting(deps.store, deps.options.staging);
    const svc = new CoreBootService(deps, Buffer.from(secretHex, 'hex'), staging);
    // `polyprov staging on|off` changes the store; every node picks it up within seconds.
    svc.stagingTimer = setInterval(() => {
      void stagingSetting(deps.store, deps.options.staging).then((v) => (svc.stagingOn = v)).catch(() => {});
    }, 3000);
    svc.stagingTimer.unref();
    return svc;
  }

  async close(): Promise<void> {
    if (this.stagingTimer) clearInterval(this.stagingTimer);
    await this.audit.flush();
  }

  get digest(): DigestAuthority {
    return this.auth.digest;
  }

  /**
   * Path safety, address policy, identification and authentication: the steps every request
   * takes before its operation. Returns the request context, or the refusal to send.
   */
  private async admit(req: BootRequest): Promise<{ ctx: Ctx } | { refused: BootResult }> {
    const started = performance.now();
    let rel: string;
    try {
      rel = normaliseRequestPath(req.path);
    } catch (e) {
      return { refused: this.refuse({ req, rel: req.path.slice(0, 200), base: '', id: {}, principal: { kind: 'anonymous' }, started }, e) };
    }
    const { base } = splitPath(rel);
    const address = plainAddress(req.remote.address);
    const id = this.identify(req, base, address);
    const pre: Ctx = { req, rel, base, id, principal: { kind: 'anonymous' }, started };
    if (this.allow && !inList(this.allow, address)) return { refused: this.refuse(pre, new ProvError('PP_ADDRESS_DENIED', `address ${address} is not in the allow-list`)) };
    if (!this.rate.take(address)) return { refused: this.refuse(pre, new ProvError('PP_RATE_LIMITED', `more than ${this.deps.options.rateLimitPerSec} requests/s from ${address}`)) };

    const auth = await this.auth.authenticate(req);
    if (auth.error) return { refused: this.refuse(pre, auth.error, auth.challenge, auth.stale) };
    const ctx = pre;
    ctx.principal = auth.principal!;
    if (ctx.principal.kind === 'account' && ctx.principal.account.pending) await this.enrol.confirm(ctx.principal.account);
    return { ctx };
  }

  async handle(req: BootRequest): Promise<BootResult> {
    const admitted = await this.admit(req);
    if ('refused' in admitted) return admitted.refused;
    const { ctx } = admitted;
    try {
      switch (req.op) {
        case 'read':
        case 'stat':
          return await this.read(ctx);
        case 'write':
        case 'append':
          return await this.write(ctx);
        case 'delete':
          return await this.remove(ctx);
      }
    } catch (e) {
      return this.refuse(ctx, e);
    }
  }

  /**
   * A directory as this principal may see it (FTP LIST/NLST). The guide's Boot Server Security
   * Policy asks that the phone's account "be able to list files in all directories mentioned in
   * the <MAC-address>.cfg"; other phones' MAC files are left out when they are not readable.
   */
  async list(req: BootRequest): Promise<DirectoryEntry[] | ProvError> {
    const admitted = await this.admit({ ...req, op: 'stat' });
    if ('refused' in admitted) return (admitted.refused as { error: ProvError }).error;
    const { ctx } = admitted;
    const p = ctx.principal;
    const own = p.kind === 'account' && p.account.kind === 'phone' ? p.account.mac : p.kind === 'cert' ? p.mac : undefined;
    let entries;
    try {
      await this.checkAccess(ctx, false);
      entries = await this.tree.list(ctx.rel);
    } catch (e) {
      const r = this.refuse(ctx, e) as { error: ProvError };
      return r.error;
    }
    if (!entries) return (this.refuse(ctx, new ProvError('PP_NOT_FOUND', `${ctx.rel || '/'} is not a directory`)) as { error: ProvError }).error;
    const out: DirectoryEntry[] = [];
    for (const e of entries) {
      if (e.isDirectory) continue;
      const mac = macOfName(e.name);
      if (mac && own !== undefined && mac !== own) continue;
      if (mac && own === undefined) {
        const bound = await this.enrol.boundAccount(mac);
        if (bound && !bound.pending) continue;
      }
      out.push({ name: e.name, size: e.size, mtime: e.mtime });
    }
    this.record(ctx, 'list', 'listed', 0, undefined, performance.now() - ctx.started);
    return out;
  }


  finish(req: BootRequest, result: BootResult, outcome: TransferOutcome): void {
    const ctx = this.ctxOf.get(req);
    if (!ctx || result.kind !== 'file') return;
    this.ctxOf.delete(req);
    this.metrics.active--;
    this.metrics.request(req.transport, outcome.status, outcome.bytes);
    this.record(ctx, req.op, outcome.aborted ? `${outcome.status}-aborted` : outcome.status, outcome.bytes, undefined, outcome.durationMs);
  }

  // --- identification -------------------------------------------------------------------

  private identify(req: BootRequest, base: string, address: string): Identity {
    const ua = req.userAgent ? this.userAgent(req.userAgent) : undefined;
    const fileMac = macOfName(base);
    const now = Date.now();
    const known = this.addrMac.get(address);
    const mac = fileMac ?? ua?.serial ?? (known && now - known.at < 15 * 60_000 ? known.mac : undefined);
    const model = ua?.model ?? (known && known.mac === mac ? known.model : undefined);
    if (mac && (fileMac || ua?.serial)) {
      if (this.addrMac.size > 200_000) this.addrMac.delete(this.addrMac.keys().next().value as string);
      this.addrMac.set(address, { mac, at: now, model });
    }
    return { mac, ua, model };
  }

  /** A fleet sends a handful of distinct User-Agents: parse each once. */
  private userAgent(header: string): UserAgentInfo | undefined {
    let ua = this.uaCache.get(header);
    if (ua === undefined) {
      ua = parseUserAgent(header) ?? null;
      if (this.uaCache.size >= 1000) this.uaCache.clear();
      this.uaCache.set(header, ua);
    }
    return ua ?? undefined;
  }

  // --- access policy --------------------------------------------------------------------

  /** Per-phone files of a phone with its own (confirmed) account are reachable only with that account. */
  private async checkAccess(ctx: Ctx, writing: boolean): Promise<void> {
    const { req, principal } = ctx;
    const fileMac = macOfName(ctx.base);
    const p = principal;
    const anonymous = p.kind === 'anonymous';
    // Only anonymous requests over TFTP care whether their network is allow-listed.
    const trusted = anonymous && !AUTHENTICATING.has(req.transport) && inList(this.tftpSecretAllow, plainAddress(req.remote.address));
    if (anonymous && AUTHENTICATING.has(req.transport) && this.deps.options.policy === 'accounts') {
      throw new ProvError('PP_AUTH_REQUIRED', 'this boot server requires a provisioning account');
    }
    if (anonymous && !AUTHENTICATING.has(req.transport) && writing && !trusted) {
      throw new ProvError('PP_SECRET_TRANSPORT', `${req.transport} carries no credentials; uploads only from allow-listed networks (tftpSecretAllow)`);
    }
    const phoneOf = p.kind === 'account' && p.account.kind === 'phone' ? p.account.mac : p.kind === 'cert' ? p.mac : undefined;
    const isPhonePrincipal = (p.kind === 'account' && p.account.kind === 'phone') || (p.kind === 'cert' && p.mac !== undefined);
    if (fileMac && isPhonePrincipal && phoneOf !== fileMac) {
      throw new ProvError(writing ? 'PP_WRITE_OTHER_MAC' : 'PP_AUTH_WRONG_PHONE', `${principalName(p)} belongs to phone ${phoneOf}, not ${fileMac}`);
    }
    if (writing && fileMac && ctx.id.ua?.serial && ctx.id.ua.serial !== fileMac) {
      throw new ProvError('PP_WRITE_OTHER_MAC', `phone ${ctx.id.ua.serial} may not write ${fileMac}'s files`);
    }
    if (fileMac) {
      const bound = await this.enrol.boundAccount(fileMac);
      if (bound && !bound.pending && !(phoneOf === fileMac)) {
        if (anonymous && !AUTHENTICATING.has(req.transport) && trusted) return; // allow-listed TFTP network
        throw new ProvError(anonymous ? 'PP_AUTH_REQUIRED' : 'PP_AUTH_WRONG_PHONE', `phone ${fileMac} has its own account; only it may ${writing ? 'write' : 'read'} these files`);
      }
    }
  }

  // --- reads ----------------------------------------------------------------------------

  private async read(ctx: Ctx): Promise<BootResult> {
    await this.checkAccess(ctx, false);
    const { rel, base, req } = ctx;
    const up = uploadKindOf(base);
    if (up) {
      const { key } = await this.uploadKey(ctx, up);
      if (key) {
        const stored = await this.deps.store.uploads.current(key);
        let body = stored ? await stored.read() : undefined;
        if (body && this.locks && (up.kind === 'override-phone' || up.kind === 'override-web')) {
          const s = stripLocked(body, rel, this.locks);
          if (s.stripped.length) {
            body = s.body;
            this.log.info({ mac: up.mac, stripped: s.stripped }, 'locked parameters removed from served override');
          }
        }
        if (up.kind === 'override-phone' && (await this.enrol.applies(ctx.principal, up.mac))) {
          const enrolled = await this.enrol.render(up.mac, body, rel);
          this.log.info({ mac: up.mac }, 'staging phone enrolled: per-phone provisioning credentials issued');
          return this.served(ctx, bufferResult(enrolled, new Date(), `"enrol-${Date.now().toString(16)}"`, up.mac));
        }
        if (stored && body) {
          await this.checkSecretTransport(ctx, true);
          return this.served(ctx, bufferResult(body, stored.storedAt, `"${stored.sha256.slice(0, 32)}-${body.length.toString(16)}"`, up.mac));
        }
      }
    }
    const f = this.tree.findNow(rel);
    if (!f) return this.refuse(ctx, ProvError.expected('PP_NOT_FOUND', `${rel} not found`));
    if (f.isDirectory) {
      if (req.op === 'stat') return this.served(ctx, { kind: 'file', size: 0, mtime: f.mtime, etag: f.etag, open: () => Readable.from([]), directory: true });
      throw new ProvError('PP_LISTING_REFUSED', `${rel || '/'} is a directory; listings are not served`);
    }
    if (!AUTHENTICATING.has(req.transport)) await this.checkSecretTransport(ctx, await this.secrets.holdsSecrets(f));
    const tree = this.tree;
    // Small files come from (and go into) the tree's memory cache; images stream from disk.
    const body = req.op === 'read' ? await tree.load(f) : undefined;
    if (body && body.length === f.size) return this.served(ctx, bufferResult(body, f.mtime, f.etag, ctx.id.mac));
    return this.served(ctx, {
      kind: 'file',
      size: f.size,
      mtime: f.mtime,
      etag: f.etag,
      open: (range?: ByteRange) => tree.open(f, range),
      chunks: (range?: ByteRange) => tree.chunks(f, range),
      mac: ctx.id.mac,
    });
  }

  private async checkSecretTransport(ctx: Ctx, secret: boolean): Promise<void> {
    if (!secret || AUTHENTICATING.has(ctx.req.transport)) return;
    if (inList(this.tftpSecretAllow, plainAddress(ctx.req.remote.address))) return;
    throw new ProvError('PP_SECRET_TRANSPORT', `${ctx.rel} holds secrets and ${ctx.req.transport} carries no credentials; allow-list this network in tftpSecretAllow or use HTTPS`);
  }

  private served(ctx: Ctx, result: FileResult): FileResult {
    this.ctxOf.set(ctx.req, ctx);
    this.metrics.active++;
    if (ctx.req.op === 'stat') {
      // A stat (FTP SIZE/MDTM, login check) transfers nothing: no finish() will follow.
      this.ctxOf.delete(ctx.req);
      this.metrics.active--;
    }
    return result;
  }

  // --- uploads --------------------------------------------------------------------------

  /**
   * The upload key when `ctx.rel` is in the directory the phone's master file names for this
   * kind; otherwise where that directory is (for the refusal).
   */
  private async uploadKey(ctx: Ctx, up: UploadName): Promise<{ key?: UploadKey; want: string; master?: string }> {
    const dirs = await this.dirs.forPhone(up.mac, ctx.id.model, ctx.id.model ? partNumberFor(ctx.id.model) : undefined);
    const want = dirs.dirs[UPLOAD_DIRECTORY[up.kind]] ?? '';
    const { dir } = splitPath(ctx.rel);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(want) || dir !== want) return { want, master: dirs.master };
    return { key: { mac: up.mac, kind: up.kind, path: joinRel(dir, up.name) }, want };
  }

  private async write(ctx: Ctx): Promise<BootResult> {
    const { req, rel, base } = ctx;
    const up = uploadKindOf(base);
    if (!up) throw new ProvError('PP_READ_ONLY', `${rel} is read-only: phones upload only <MAC>-phone.cfg, -web.cfg, -directory.xml, -boot.log, -app.log, -calls.xml`);
    const { key, want, master } = await this.uploadKey(ctx, up);
    if (!key) throw new ProvError('PP_READ_ONLY', `${rel}: this phone's ${UPLOAD_DIRECTORY[up.kind]} is "${want}"${master ? ` (${master})` : ''}; uploads go there`);
    await this.checkAccess(ctx, true);
    const o = this.deps.options;
    const isLog = up.kind === 'log-app' || up.kind === 'log-boot';
    const isOverride = up.kind === 'override-phone' || up.kind === 'override-web';
    const maxBytes = isLog ? o.uploadMaxBytesLog : isOverride ? o.uploadMaxBytesOverride : up.kind === 'directory' ? o.uploadMaxBytesDirectory : o.uploadMaxBytesCalls;
    if (req.size !== undefined && req.size > maxBytes) {
      throw new ProvError('PP_UPLOAD_TOO_LARGE', `${rel}: ${req.size} bytes announced; the limit for this kind is ${maxBytes}`);
    }
    // Logs are rolling: phones upload in append mode (log.render.file.upload.append), so every
    // log upload adds to the stored log, which keeps its last logCapBytes bytes.
    const sink = await this.deps.store.uploads.begin(key, {
      mode: isLog || req.op === 'append' ? 'append' : 'replace',
      address: plainAddress(req.remote.address),
      maxBytes,
      capBytes: isLog ? o.logCapBytes : undefined,
      keepVersions: o.uploadKeepVersions,
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
      await this.deps.store.phones.setOverrideLocked(up.mac, locked.length > 0);
      if (locked.length) this.log.warn({ mac: up.mac, locked }, 'override touches locked parameters; stored as received, served without them');
    }
    const dur = performance.now() - ctx.started;
    this.metrics.request(req.transport, 'stored', stored.size);
    this.record(ctx, req.op, 'stored', sink.bytes, undefined, dur);
    return { kind: 'stored', bytes: sink.bytes, sha256: stored.sha256, created: stored.version === 1 };
  }

  private async remove(ctx: Ctx): Promise<BootResult> {
    const up = uploadKindOf(ctx.base);
    if (!up) throw new ProvError('PP_READ_ONLY', `${ctx.rel} is read-only`);
    const { key } = await this.uploadKey(ctx, up);
    if (!key) throw new ProvError('PP_READ_ONLY', `${ctx.rel} is not in this phone's upload directory`);
    await this.checkAccess(ctx, true);
    const current = await this.deps.store.uploads.current(key);
    if (!current) throw new ProvError('PP_NOT_FOUND', `${ctx.rel} not found`);
    await this.deps.store.uploads.clear(key);
    this.record(ctx, 'delete', 'deleted', 0, undefined, performance.now() - ctx.started);
    return { kind: 'deleted' };
  }

  // --- refusals and records -------------------------------------------------------------

  private refuse(ctx: Ctx, e: unknown, challenge = false, stale = false): BootResult {
    const err = isProvError(e) ? e : new ProvError('PP_INTERNAL', 'internal error', { cause: e });
    if (err.code === 'PP_INTERNAL') this.log.error({ err: e }, 'internal error serving a request');
    const address = plainAddress(ctx.req.remote.address);
    // One line per refusal, fixed form, for fail2ban (contrib/fail2ban/polyprov.conf).
    this.log.warn({ code: err.code, transport: ctx.req.transport, path: ctx.rel, mac: ctx.id.mac }, `refused ${err.code} from ${address}`);
    this.metrics.refusal(ctx.req.transport, err.code);
    this.metrics.request(ctx.req.transport, String(errorDef(err.code).http ?? 500), 0);
    this.record(ctx, ctx.req.op, err.code, 0, err.code, performance.now() - ctx.started);
    const needChallenge = challenge || err.code === 'PP_AUTH_REQUIRED';
    return {
      kind: 'refused',
      error: err,
      challenge: needChallenge ? { realm: this.deps.options.realm, headers: this.auth.digest.challenges(stale) } : undefined,
    };
  }

  private record(ctx: Ctx, op: string, status: string, bytes: number, code: string | undefined, durationMs: number): void {
    const { req, id } = ctx;
    const address = plainAddress(req.remote.address);
    const at = new Date();
    const ev: AuditEvent = { at, address, transport: req.transport, op, path: ctx.rel, status, bytes, durationMs: Math.round(durationMs * 1000) / 1000 };
    if (id.mac) ev.mac = id.mac;
    const user = principalName(ctx.principal);
    if (user) ev.user = user;
    if (code) ev.code = code;
    this.audit.event(ev);
    if (!id.mac) return;
    const s: Sighting = { mac: id.mac, at, source: req.transport, address, file: { path: ctx.rel, op: op === 'read' || op === 'stat' ? 'read' : 'write', status } };
    const ua = id.ua;
    if (ua) {
      s.userAgent = req.userAgent;
      if (ua.model) {
        s.model = ua.model;
        const part = partNumberFor(ua.model);
        if (part) s.partNumber = part;
      }
      if (ua.stage) s.stage = ua.stage;
      if (ua.stage === 'updater') s.bootromVersion = ua.version;
      else if (ua.stage === 'application') s.appVersion = ua.version;
    }
    if (isMasterName(ctx.base) && ua?.stage !== 'application' && (op === 'read')) s.bootStart = true;
    if (code && code !== 'PP_NOT_FOUND' && code !== 'PP_AUTH_REQUIRED') s.error = `${code} ${ctx.rel}`;
    this.audit.sighting(s);
  }
}

async function stagingSetting(store: Store, fallback: boolean): Promise<boolean> {
  const v = await store.settings.get('staging');
  return v === undefined ? fallback : v === 'on';
}

function bufferResult(body: Buffer, mtime: Date, etag: string, mac?: string): FileResult {
  return {
    kind: 'file',
    size: body.length,
    mtime,
    etag,
    mac,
    body,
    open: (range?: ByteRange) => Readable.from(range ? [body.subarray(range.start, range.end + 1)] : [body], { objectMode: false }),
  };
}

export async function createBootService(deps: BootServiceDeps): Promise<CoreBootService> {
  return CoreBootService.create(deps);
}
