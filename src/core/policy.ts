// Step 4, policy: may this principal do this operation on this file? The access policy
// (`accounts`: every HTTP/FTP request needs an account; `open`: the classic LAN boot server),
// per-phone files of a phone bound to its own account (Administrator's Guide, Boot Server
// Security Policy), and TFTP, which carries no credentials (its secret files and its uploads
// only for allow-listed networks, tftpSecretAllow). With a managed fleet (issue 14, Tenants), a
// phone of another tenant does not exist under this tenant's prefix: its files are a plain 404.
import type { BlockList } from 'node:net';
import type { Account, Mac, Transport } from '../domain.ts';
import { ProvError } from '../errors.ts';
import type { ServerOptions } from '../options.ts';
import { compileCidrs, inList } from './address-policy.ts';
import { principalName, type Principal } from './authenticate.ts';
import type { RequestContext } from './context.ts';
import type { Enrolment } from './enrolment.ts';
import type { ManagedFiles } from '../fleet/types.ts';
import { macOfName } from '../config/phone-layout.ts';

/** Transports that carry credentials; on the others (TFTP) the phone cannot prove who it is. */
const AUTHENTICATING: ReadonlySet<Transport> = new Set<Transport>(['http', 'https', 'ftp', 'ftps']);

export function carriesCredentials(t: Transport): boolean {
  return AUTHENTICATING.has(t);
}

/** The phone a principal is (its own bound account, or a client certificate naming its MAC). */
export function phoneOf(p: Principal): string | undefined {
  return p.kind === 'account' && p.account.kind === 'phone' ? p.account.mac : p.kind === 'cert' ? p.mac : undefined;
}

/**
 * What TFTP bypasses, for `serve` to state at start when it listens on TFTP (issue 13 item 8):
 * TFTP carries no credentials, so the access policy cannot apply to it; what protects instead.
 */
export function tftpNotice(o: Pick<ServerOptions, 'policy' | 'tftpSecretAllow' | 'tftpBoundPhones'>): string[] {
  const nets = o.tftpSecretAllow.length > 0 ? o.tftpSecretAllow.join(', ') : 'none';
  return [
    `TFTP carries no credentials: it bypasses the ${o.policy} policy${o.policy === 'accounts' ? ' (files without secrets are served to any address, no account asked)' : ''}`,
    `files holding secrets (per-phone files, passwords, master URLs with user:password) and all uploads: only from tftpSecretAllow (${nets})`,
    o.tftpBoundPhones
      ? `phones bound to their own account: served and written without it from tftpSecretAllow (tftpBoundPhones on)`
      : 'phones bound to their own account: never over TFTP (tftpBoundPhones off)',
  ];
}

export class AccessPolicy {
  private readonly tftpSecretAllow: BlockList | undefined;

  constructor(
    private readonly options: Readonly<ServerOptions>,
    private readonly enrol: Enrolment,
    /** The fleet, which knows each managed phone's tenant (issue 14). */
    private readonly fleet?: ManagedFiles,
  ) {
    this.tftpSecretAllow = compileCidrs(options.tftpSecretAllow, 'tftpSecretAllow');
  }

  /**
   * The step: reads, stats and listings check read access; writes and deletes write access.
   * Undefined when decided at once (the usual case: no promise on the serving path, issue 16 Speed).
   */
  check(ctx: RequestContext): Promise<void> | undefined {
    const op = ctx.req.op;
    return this.checkAccess(ctx, op === 'write' || op === 'append' || op === 'delete');
  }

  /** Per-phone files of a phone with its own (confirmed) account are reachable only with that account. */
  checkAccess(ctx: RequestContext, writing: boolean): Promise<void> | undefined {
    const { req, principal: p } = ctx;
    const anonymous = p.kind === 'anonymous';
    const authenticating = AUTHENTICATING.has(req.transport);
    // Only anonymous requests over TFTP care whether their network is allow-listed.
    const trusted = anonymous && !authenticating && inList(this.tftpSecretAllow, ctx.address);
    if (anonymous && authenticating && this.options.policy === 'accounts') {
      throw new ProvError('PP_AUTH_REQUIRED', 'this boot server requires a provisioning account');
    }
    if (anonymous && !authenticating && writing && !trusted) {
      throw new ProvError('PP_SECRET_TRANSPORT', `${req.transport} carries no credentials; uploads only from allow-listed networks (tftpSecretAllow)`);
    }
    const fileMac = macOfName(ctx.base);
    if (fileMac) {
      this.checkTenant(ctx, fileMac);
      return this.checkOwners(ctx, [fileMac], writing, fileMac);
    }
    return undefined;
  }

  /**
   * Issue 14, Tenants: a MAC managed by another tenant is not this tenant's phone; its files
   * (managed, per-phone tree files, uploads) are not found here. Checked after the checks every
   * file gets (an anonymous request is asked for an account first), before the owner rules.
   */
  checkTenant(ctx: RequestContext, mac: Mac): void {
    if (this.sameTenant(ctx, mac)) return;
    throw ProvError.expected('PP_NOT_FOUND', `${ctx.rel} not found`);
  }

  /** Whether this MAC may be this request's tenant's phone: unmanaged, or managed by this tenant. */
  sameTenant(ctx: RequestContext, mac: Mac): boolean {
    const t = this.fleet?.tenantOf(mac);
    return t === undefined || t === ctx.view.tenant;
  }

  /**
   * The rules for the files of these phones: by the file's MAC name, or (content.ts, once the file
   * is found) a file with secrets that only their masters list (issue 13 item 6). Another phone's
   * account never; anyone else only while none of these phones has its own confirmed account.
   */
  checkOwners(ctx: RequestContext, owners: readonly Mac[], writing: boolean, fileMac = macOfName(ctx.base)): Promise<void> | undefined {
    const p = ctx.principal;
    const own = phoneOf(p);
    const isPhonePrincipal = (p.kind === 'account' && p.account.kind === 'phone') || (p.kind === 'cert' && p.mac !== undefined);
    if (isPhonePrincipal && !owners.includes(own as Mac)) {
      throw new ProvError(writing ? 'PP_WRITE_OTHER_MAC' : 'PP_AUTH_WRONG_PHONE', `${principalName(p)} belongs to phone ${own}, not ${owners.join(', ')}`);
    }
    if (writing && fileMac && ctx.id.ua?.serial && ctx.id.ua.serial !== fileMac) {
      throw new ProvError('PP_WRITE_OTHER_MAC', `phone ${ctx.id.ua.serial} may not write ${fileMac}'s files`);
    }
    if (isPhonePrincipal) return undefined; // one of the owners
    // Each owner's own account, answered at once when read lately; a promise only for one not read lately.
    for (let i = 0; i < owners.length; i++) {
      const bound = this.enrol.boundAccount(owners[i]!);
      if (bound instanceof Promise) return this.checkBound(ctx, owners, i, bound, writing, fileMac);
      this.refuseBound(ctx, owners[i]!, bound, writing, fileMac);
    }
    return undefined;
  }

  private async checkBound(ctx: RequestContext, owners: readonly Mac[], from: number, first: Promise<Account | undefined>, writing: boolean, fileMac: Mac | undefined): Promise<void> {
    this.refuseBound(ctx, owners[from]!, await first, writing, fileMac);
    for (let i = from + 1; i < owners.length; i++) this.refuseBound(ctx, owners[i]!, await this.enrol.boundAccount(owners[i]!), writing, fileMac);
  }

  /** Throws when this phone has its own confirmed account and this request is not that account. */
  private refuseBound(ctx: RequestContext, mac: Mac, bound: Account | undefined, writing: boolean, fileMac: Mac | undefined): void {
    if (!bound || bound.pending) return;
    const { req, principal: p } = ctx;
    const anonymous = p.kind === 'anonymous';
    const trusted = anonymous && !AUTHENTICATING.has(req.transport) && inList(this.tftpSecretAllow, ctx.address);
    // TFTP carries no credentials: a phone with its own account is not served or written over
    // it, even from an allow-listed network, unless the administrator says so (issue 13 item 8).
    if (trusted && this.options.tftpBoundPhones) return;
    const what = fileMac ? 'these files' : `${ctx.rel}, which holds its secrets`;
    throw new ProvError(
      anonymous ? 'PP_AUTH_REQUIRED' : 'PP_AUTH_WRONG_PHONE',
      `phone ${mac} has its own account; only it may ${writing ? 'write' : 'read'} ${what}${trusted ? ` (${req.transport} carries no credentials; tftpBoundPhones allows it from tftpSecretAllow networks)` : ''}`,
    );
  }

  /** A file that holds secrets goes over a transport without credentials only to allow-listed networks. */
  checkSecretTransport(ctx: RequestContext, secret: boolean): void {
    if (!secret || AUTHENTICATING.has(ctx.req.transport)) return;
    if (inList(this.tftpSecretAllow, ctx.address)) return;
    throw new ProvError('PP_SECRET_TRANSPORT', `${ctx.rel} holds secrets and ${ctx.req.transport} carries no credentials; allow-list this network in tftpSecretAllow or use HTTPS`);
  }

  /**
   * Whether a file shows in this principal's listing: another phone's files (MAC-named, or a
   * secret file only its master lists, issue 13 item 6) are left out for a phone principal, and a
   * bound phone's files for everyone but that phone.
   */
  async listable(ctx: RequestContext, rel: string): Promise<boolean> {
    const mac = macOfName(rel);
    if (mac && !this.sameTenant(ctx, mac)) return false;
    return this.visibleTo(ctx, mac ? [mac] : await ctx.view.secrets.ownersOf(rel));
  }

  /** Whether the files of these phones show in this principal's listing (none: everyone's file). */
  async visibleTo(ctx: RequestContext, owners: readonly Mac[]): Promise<boolean> {
    if (owners.length === 0) return true;
    const own = phoneOf(ctx.principal);
    if (own !== undefined) return owners.includes(own as Mac);
    for (const m of owners) {
      const bound = await this.enrol.boundAccount(m);
      if (bound && !bound.pending) return false;
    }
    return true;
  }
}
