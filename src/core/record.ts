// Step 6, record: every request ends here exactly once, counted in the metrics and written to
// the audit (batched off the serving path, audit.ts). A refusal gets one warn line in a fixed,
// fail2ban-friendly form (contrib/fail2ban/polyprov.conf). Only requests that were served feed
// the inventory: a refused one (a 401 before credentials, a hostile path) is recorded as a
// refusal, never as a phone or its boot (issue 13, item 15). Paths are recorded as the phone asked
// for them, the tenant's prefix included (issue 14); the managed file is never a boot start.
import { partNumberFor } from '../config/models.ts';
import { errorDef, isProvError, ProvError, type ErrorCode } from '../errors.ts';
import type { AuditEvent, Sighting } from '../domain.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { AuditRecorder } from './audit.ts';
import { principalName } from './authenticate.ts';
import { requestPath, type RequestContext } from './context.ts';
import { isMasterRequest } from './managed-path.ts';
import type { Metrics } from './metrics.ts';
import type { AuthChallenge, BootResult, TransferOutcome } from './request.ts';

/**
 * Refusals that say nothing about the phone itself: no credentials yet, wrong ones, a hostile
 * or unknown path, a denied or flooding address. They never touch the inventory. Other refusals
 * of a phone the inventory already knows (an upload too large, another phone's file) set its
 * last error.
 */
const NOT_ABOUT_THE_PHONE: ReadonlySet<string> = new Set<ErrorCode>(['PP_NOT_FOUND', 'PP_AUTH_REQUIRED', 'PP_AUTH_FAILED', 'PP_DIGEST_NONCE_REPLAYED', 'PP_PATH_HOSTILE', 'PP_ADDRESS_DENIED', 'PP_RATE_LIMITED']);

export class Records {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditRecorder,
    readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** The refusal result, recorded and counted once. */
  refuse(ctx: RequestContext, e: unknown, challenge?: AuthChallenge): BootResult {
    const err = isProvError(e) ? e : new ProvError('PP_INTERNAL', 'internal error', { cause: e });
    if (err.code === 'PP_INTERNAL') this.log.error({ err: e }, 'internal error serving a request');
    const transport = ctx.req.transport;
    // One line per refusal, fixed form, for fail2ban (contrib/fail2ban/polyprov.conf).
    this.log.warn({ code: err.code, transport, path: requestPath(ctx), mac: ctx.id.mac }, `refused ${err.code} from ${ctx.address}`);
    this.metrics.refusal(transport, err.code);
    this.metrics.request(transport, String(errorDef(err.code).http ?? 500), 0);
    this.record(ctx, err.code, 0, err.code, performance.now() - ctx.started);
    return challenge ? { kind: 'refused', error: err, challenge } : { kind: 'refused', error: err };
  }

  /** A read that starts a transfer: counted active until the adapter reports its outcome. */
  started(): void {
    this.metrics.active++;
  }

  /** The adapter's report of how a read ended. */
  finished(ctx: RequestContext, o: TransferOutcome): void {
    this.metrics.active--;
    this.metrics.request(ctx.req.transport, o.status, o.bytes);
    this.record(ctx, o.aborted ? `${o.status}-aborted` : o.status, o.bytes, undefined, o.durationMs);
  }

  /** A write, append, delete or listing that completed inside the core. */
  completed(ctx: RequestContext, status: string, bytes: number): void {
    if (status === 'stored') this.metrics.request(ctx.req.transport, status, bytes);
    this.record(ctx, status, bytes, undefined, performance.now() - ctx.started);
  }

  private record(ctx: RequestContext, status: string, bytes: number, code: string | undefined, durationMs: number): void {
    const { req, id } = ctx;
    const op = req.op;
    const at = new Date();
    const path = requestPath(ctx);
    const ev: AuditEvent = { at, address: ctx.address, transport: req.transport, op, path, status, bytes, durationMs: Math.round(durationMs * 1000) / 1000 };
    if (id.mac) ev.mac = id.mac;
    const user = principalName(ctx.principal);
    if (user) ev.user = user;
    if (code) ev.code = code;
    this.audit.event(ev);
    if (!id.mac) return;
    const s: Sighting = { mac: id.mac, at, source: req.transport, address: ctx.address, file: { path, op: op === 'read' || op === 'stat' || op === 'list' ? 'read' : 'write', status } };
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
    if (code === undefined) {
      if (isMasterRequest(ctx.rel) && op === 'read') {
        if (ua?.stage !== 'application') s.bootStart = true;
        // The master a phone reads decides where its uploads go, after a restart too (issue 13 item 4).
        if (ctx.masterRead) s.master = path;
      }
      if (ctx.overrideLocked !== undefined) s.overrideLocked = ctx.overrideLocked;
      this.audit.sighting(s);
      return;
    }
    if (NOT_ABOUT_THE_PHONE.has(code)) return;
    // A refusal updates a phone the inventory already has; it never creates one. The lookup is
    // off the serving path (nothing waits for it) and refusals are rare.
    s.error = `${code} ${path}`;
    this.store.phones.get(id.mac).then(
      (known) => known && this.audit.sighting(s),
      () => {},
    );
  }
}
