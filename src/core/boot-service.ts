// The boot service: the one entry point every transport calls. `handle()` is the list of its
// steps, in order, for every transport and operation:
//   admit (admit.ts: path safety, address policy, rate) → identify (identify.ts) →
//   authenticate (authenticate.ts) → policy (policy.ts; an upload's target directory first,
//   upload.ts) → content (content.ts reads and listings, upload.ts writes and deletes) →
//   record (record.ts: metrics and audit, exactly once per request; a served file records when
//   the adapter calls its `done(outcome)`).
// The core never knows which adapter called beyond the `transport` tag, which only feeds policy
// (TFTP has no credentials) and the audit.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DEFAULT_TENANT, type Transport } from '../domain.ts';
import type { ManagedFiles } from '../fleet/types.ts';
import type { Logger } from '../log.ts';
import { isEmbeddedStore, type ServerOptions } from '../options.ts';
import type { Store } from '../store/store.ts';
import { plainAddress } from '../util/address.ts';
import { Admission } from './admit.ts';
import { AUDIT_SPOOL_DIR, AuditRecorder } from './audit.ts';
import { ANY_TENANT, Authenticator, challengeOf } from './authenticate.ts';
import { Content } from './content.ts';
import { newContext, type RequestContext } from './context.ts';
import { DigestAuthority } from './digest-auth.ts';
import { stagingSetting, stagingTenants } from './admin-staging.ts';
import { splitPath } from './paths.ts';
import { Enrolment } from './enrolment.ts';
import { isProvError, ProvError } from '../errors.ts';
import { Identification } from './identify.ts';
import { Metrics } from './metrics.ts';
import { compileLocks } from './override-lock.ts';
import { AccessPolicy } from './policy.ts';
import { Records } from './record.ts';
import type { BootRequest, BootResult, BootService } from './request.ts';
import { TenantViews } from './tenant-tree.ts';
import { TreeFiles } from '../config/tree-source.ts';
import { Uploads } from './upload.ts';

export interface BootServiceDeps {
  options: Readonly<ServerOptions>;
  store: Store;
  log: Logger;
  /**
   * The managed fleet (issue 14): tenants under their URL prefixes, `managed/<MAC>.cfg`, the
   * default master. Absent: one default tenant, the tree served exactly as without a fleet.
   */
  fleet?: ManagedFiles;
}

export class CoreBootService implements BootService {
  readonly metrics = new Metrics();
  readonly audit: AuditRecorder;
  readonly tree: TreeFiles;
  readonly auth: Authenticator;
  private readonly admission: Admission;
  private readonly identification = new Identification();
  private readonly policy: AccessPolicy;
  private readonly content: Content;
  private readonly uploads: Uploads;
  private readonly records: Records;
  private readonly enrol: Enrolment;
  private readonly views: TenantViews;
  /** The staging switch of each tenant seen (`staging`, `staging.<tenant>` in the store), refreshed every few seconds. */
  private readonly staging = new Map<string, boolean>();
  private stagingTimer: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;

  private constructor(
    private readonly deps: BootServiceDeps,
    secret: Buffer,
    stagingOn: boolean,
  ) {
    const { options: o, store, log } = deps;
    this.staging.set(DEFAULT_TENANT, stagingOn);
    // Lookups kept a second (issue 16: a shared tree's edit is served by every node within it; a local one at once).
    this.tree = new TreeFiles(o.root, { recheckMs: 1000, watch: true });
    this.views = new TenantViews(this.tree, deps.fleet, async (mac) => (await store.phones.get(mac))?.master);
    // Issue 13 item 5: in `open` policy any FTP login reads, as over HTTP (a factory PlcmSpIp phone, anonymous).
    this.auth = new Authenticator(store, new DigestAuthority(o.realm, secret, o.digestNonceTtlMs), (tenant) => this.stagingOf(tenant), undefined, o.policy === 'open');
    // Issue 13 item 13: while the store is unavailable, audit batches wait in the data directory.
    const hold = o.inventoryHoldMs > 0 ? { hold: { quietMs: o.inventoryHoldMs, maxHoldMs: Math.round(o.inventoryHoldMs * 2.5) } } : {};
    // The write-ahead journal where a flush can stall (PostgreSQL); see ServerOptions.auditJournal.
    const journal = o.auditJournal === 'on' || (o.auditJournal === 'auto' && !isEmbeddedStore(o));
    this.audit = new AuditRecorder(store, log, { spoolDir: join(o.data, AUDIT_SPOOL_DIR), journal, ...hold });
    this.enrol = new Enrolment(store, o.realm, this.auth, o.enrol);
    this.admission = new Admission(o);
    this.policy = new AccessPolicy(o, this.enrol, deps.fleet);
    // The managed file's counters on /metrics (issue 14 Scale: the bench's warm-cache check).
    if (deps.fleet) this.metrics.fleet = deps.fleet;
    this.records = new Records(store, this.audit, this.metrics, log);
    const locks = compileLocks(o.lockedParams);
    this.uploads = new Uploads(o, store, locks, log);
    this.content = new Content({
      store,
      uploads: this.uploads,
      policy: this.policy,
      enrol: this.enrol,
      records: this.records,
      locks,
      log,
    });
  }

  static async create(deps: BootServiceDeps): Promise<CoreBootService> {
    // The digest secret is kept in the store so a nonce not signed by it is told apart from an old one;
    // nonces are still good only in the process that issued them (digest-auth.ts, issue 13 item 9).
    // Issue 16: a node started while its database is down signs with a secret of its own (nonces
    // are good only in the process that issued them anyway) and takes the staging option until
    // the store answers (the feed's catch-up re-reads the switches then).
    let secretHex: string | undefined;
    let staging = deps.options.staging;
    try {
      secretHex = await deps.store.settings.get('digest.secret');
      if (!secretHex) {
        secretHex = randomBytes(32).toString('hex');
        await deps.store.settings.set('digest.secret', secretHex);
      }
      staging = await stagingSetting(deps.store, deps.options.staging);
    } catch (err) {
      if (!isProvError(err) || err.code !== 'PP_STORE_UNAVAILABLE') throw err;
      secretHex ??= randomBytes(32).toString('hex');
    }
    const svc = new CoreBootService(deps, Buffer.from(secretHex, 'hex'), staging);
    if (deps.fleet) await svc.refreshStaging().catch(() => {});
    // `polyprov staging on|off` changes the store; every node picks it up within seconds.
    svc.stagingTimer = setInterval(() => void svc.refreshStaging().catch(() => {}), 3000);
    svc.stagingTimer.unref();
    // Issue 16: another node's (or this process's admin service's) change is heard at once; the
    // account cache's short life and the staging timer remain the fallback when the feed is down.
    svc.unwatch = deps.store.watch((topic, key) => {
      if (topic === 'accounts') {
        svc.auth.forget(key);
        svc.enrol.forgetBound();
      }
      else if (topic === 'settings' && (key === undefined || key.startsWith('staging'))) void svc.refreshStaging().catch(() => {});
    });
    return svc;
  }

  async close(): Promise<void> {
    if (this.stagingTimer) clearInterval(this.stagingTimer);
    this.unwatch?.();
    this.tree.close();
    await this.audit.flush();
  }

  /** Re-reads the staging switch of every tenant seen and of those the store lists as on. */
  private async refreshStaging(): Promise<void> {
    const { store, options } = this.deps;
    const tenants = new Set(this.staging.keys());
    if (this.deps.fleet) for (const t of await stagingTenants(store)) if (this.staging.size < 10_000) tenants.add(t);
    for (const tenant of tenants) this.staging.set(tenant, await stagingSetting(store, options.staging, tenant));
  }

  /** A tenant's staging switch: the store's value once read, refreshed by the timer. ANY_TENANT: on for any tenant. */
  private stagingOf(tenant: string): boolean | Promise<boolean> {
    if (tenant === ANY_TENANT) return [...this.staging.values()].some(Boolean);
    const on = this.staging.get(tenant);
    if (on !== undefined) return on;
    return stagingSetting(this.deps.store, this.deps.options.staging, tenant).then((v) => {
      if (this.staging.size < 10_000) this.staging.set(tenant, v);
      return v;
    });
  }

  get digest(): DigestAuthority {
    return this.auth.digest;
  }

  async handle(req: BootRequest): Promise<BootResult> {
    const ctx = newContext(req, plainAddress(req.remote.address), this.views.default);
    const refusal = this.admission.admit(ctx);
    if (!refusal) {
      // Issue 14, Tenants: a path under a tenant's prefix is that tenant's; the rest is the path in its view.
      const routed = this.views.route(ctx.rel);
      ctx.view = routed.view;
      ctx.rel = routed.rel;
      ctx.base = splitPath(routed.rel).base;
    }
    this.identification.identify(ctx);
    if (refusal) return this.records.refuse(ctx, refusal);
    try {
      // FTP's login names no tenant yet: any tenant's staging lets the factory account log in (with a fleet).
      const login = this.deps.fleet !== undefined && loginCheck(req.op, ctx.view.prefix + ctx.rel);
      const authenticating = this.auth.authenticate(req, login ? ANY_TENANT : ctx.view.tenant);
      const auth = authenticating instanceof Promise ? await authenticating : authenticating;
      if (auth.error) return this.records.refuse(ctx, auth.error, auth.challenge ? challengeOf(this.auth.digest, auth.stale === true) : undefined);
      ctx.principal = auth.principal!;
      if (ctx.principal.kind === 'account' && (ctx.principal.account.tenant ?? DEFAULT_TENANT) !== ctx.view.tenant && !loginCheck(ctx.req.op, ctx.view.prefix + ctx.rel)) {
        // Another tenant's account is no account here: refused as a wrong user or password, so
        // the answer does not tell that the account exists elsewhere (issue 14, Tenants).
        const user = ctx.principal.account.user;
        ctx.principal = { kind: 'anonymous' };
        return this.records.refuse(ctx, new ProvError('PP_AUTH_FAILED', `wrong user or password for "${user}"`), challengeOf(this.auth.digest, false));
      }
      if (ctx.principal.kind === 'account' && ctx.principal.account.pending) await this.enrol.confirm(ctx.principal.account);
      const op = req.op;
      const writes = op === 'write' || op === 'append' || op === 'delete';
      // An upload's place is checked before its access: a misplaced upload is PP_READ_ONLY for everyone.
      if (writes) await this.uploads.target(ctx);
      const checking = this.policy.check(ctx);
      if (checking) await checking;
      if (op === 'read' || op === 'stat') return await this.content.read(ctx);
      if (op === 'list') return await this.content.list(ctx);
      const result = op === 'delete' ? await this.uploads.remove(ctx) : await this.uploads.write(ctx);
      this.records.completed(ctx, result.kind === 'stored' ? 'stored' : 'deleted', result.kind === 'stored' ? result.bytes : 0);
      return result;
    } catch (e) {
      return this.refuse(ctx, e);
    }
  }

  /** A refusal thrown by a step; one that asks for an account carries the challenge to send. */
  private refuse(ctx: RequestContext, e: unknown): BootResult {
    const challenge = isProvError(e) && e.code === 'PP_AUTH_REQUIRED' ? challengeOf(this.auth.digest, false) : undefined;
    return this.records.refuse(ctx, e, challenge);
  }

  wireGarbage(transport: Transport): void {
    this.metrics.garbage(transport);
  }
}

/**
 * FTP's login check (a `stat` of the root with the USER/PASS given) passes for any tenant's
 * account: the account then reads only under its tenant's prefix.
 */
function loginCheck(op: string, path: string): boolean {
  return op === 'stat' && path === '';
}

export async function createBootService(deps: BootServiceDeps): Promise<CoreBootService> {
  return CoreBootService.create(deps);
}
