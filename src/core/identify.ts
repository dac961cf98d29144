// Step 2, identify: which phone is asking. The MAC comes from the file name (`<MAC>.cfg`,
// `<MAC>-phone.cfg`), else the User-Agent's serial, else the phone last seen at this address
// (so requests that carry no MAC, such as `sip.ld` or a shared `.cfg`, are still named); the
// model and stage come from the User-Agent (Administrator's Guide, User-Agent strings).
import { parseUserAgent, type UserAgentInfo } from '../config/models.ts';
import type { Mac } from '../domain.ts';
import type { RequestContext } from './context.ts';
import { macOfName } from '../config/phone-layout.ts';

/** How long a phone seen at an address names that address's MAC-less requests. */
const ADDRESS_MEMORY_MS = 15 * 60_000;
const MAX_ADDRESSES = 200_000;

export class Identification {
  /** Last phone seen at an address, to name requests that carry no MAC (sip.cfg, images). */
  private readonly addrMac = new Map<string, { mac: Mac; at: number; model?: string }>();
  private readonly uaCache = new Map<string, UserAgentInfo | null>();

  identify(ctx: RequestContext): void {
    const ua = ctx.req.userAgent ? this.userAgent(ctx.req.userAgent) : undefined;
    const fileMac = macOfName(ctx.base);
    const now = Date.now();
    const known = this.addrMac.get(ctx.address);
    const mac = fileMac ?? ua?.serial ?? (known && now - known.at < ADDRESS_MEMORY_MS ? known.mac : undefined);
    const model = ua?.model ?? (known && known.mac === mac ? known.model : undefined);
    if (mac && (fileMac || ua?.serial)) {
      if (this.addrMac.size > MAX_ADDRESSES) this.addrMac.delete(this.addrMac.keys().next().value as string);
      this.addrMac.set(ctx.address, { mac, at: now, model });
    }
    ctx.id = { mac, ua, model };
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
}
