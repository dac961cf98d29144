// RFC 2347 option negotiation for blksize (RFC 2348), timeout and tsize (RFC 2349) and
// windowsize (RFC 7440). Only options the client asked for are answered (RFC 2347 §2: "the server
// must not include options the client did not request"), each clamped to the server's maxima.
// An option with a value we cannot honour is left out of the OACK rather than refused: the
// client then falls back to the RFC 1350 default, which every client must accept.

export interface NegotiationLimits {
  /** Largest blksize granted (RFC 2348 range 8–65464). */
  blksizeMax: number;
  /** Largest windowsize granted (RFC 7440 range 1–65535). */
  windowsizeMax: number;
  /** Retransmission timeout used when the client does not ask for one. */
  timeoutMs: number;
}

export interface Negotiated {
  blksize: number;
  windowsize: number;
  /** First retransmission timeout; RFC 2349 timeout seconds when the client sent one. */
  timeoutMs: number;
  /** WRQ only: the size the client announced (RFC 2349 tsize). */
  tsize?: number;
  /**
   * The OACK's options, in request order. `tsize` on an RRQ is a placeholder to fill with the
   * real size once the content is known. Empty: answer without an OACK (RFC 2347 §2).
   */
  oack: Map<string, string>;
}

const DIGITS = /^[0-9]{1,10}$/;

function int(value: string): number | undefined {
  return DIGITS.test(value) ? Number(value) : undefined;
}

export function negotiateOptions(
  op: 'RRQ' | 'WRQ',
  requested: ReadonlyMap<string, string>,
  limits: NegotiationLimits,
): Negotiated {
  const out: Negotiated = { blksize: 512, windowsize: 1, timeoutMs: limits.timeoutMs, oack: new Map() };
  for (const [name, raw] of requested) {
    const v = int(raw);
    switch (name) {
      case 'blksize':
        // RFC 2348: valid values 8–65464; a larger request is answered with a smaller one.
        if (v !== undefined && v >= 8) {
          out.blksize = Math.min(v, limits.blksizeMax, 65464);
          out.oack.set('blksize', String(out.blksize));
        }
        break;
      case 'windowsize':
        // RFC 7440 §3: 1–65535; the server may answer with a smaller value.
        if (v !== undefined && v >= 1) {
          out.windowsize = Math.min(v, limits.windowsizeMax, 65535);
          out.oack.set('windowsize', String(out.windowsize));
        }
        break;
      case 'timeout':
        // RFC 2349: 1–255 seconds; the server must answer with the same value or leave it out.
        if (v !== undefined && v >= 1 && v <= 255) {
          out.timeoutMs = v * 1000;
          out.oack.set('timeout', String(v));
        }
        break;
      case 'tsize':
        // RFC 2349: an RRQ carries "0" and gets the real size back; a WRQ announces its size.
        if (v !== undefined) {
          if (op === 'WRQ') out.tsize = v;
          out.oack.set('tsize', String(v));
        }
        break;
      default:
        // Unknown options (multicast, utimeout, rollover…) are ignored, as RFC 2347 §2 allows.
        break;
    }
  }
  return out;
}
