// HTTP push reconfiguration for UC Software phones with the push server enabled
// (apps.push.*; UCS >= 3.3.1, white paper "Reconfiguring the Phone Remotely": "HTTP-Reconfig").
// The phone's push API takes a POST to /push with Content-Type application/x-com-polycom-spipx
// and answers a Digest challenge first (facts §3.5: EXCAL functions.inc.php; "each HTTP GET/POST
// request requires an MD5 digest authentication", SIP 3.1 Developer's Guide).
import http from 'node:http';
import https from 'node:https';
import { DigestClient, digestChallenge, type DigestCredentials } from '../core/digest.ts';

export const PUSH_CONTENT_TYPE = 'application/x-com-polycom-spipx';
export const PUSH_BODY = '<PolycomIPPhone><Data priority="Critical">Action:UpdateConfig</Data></PolycomIPPhone>';

export interface PushOptions {
  timeoutMs: number;
  credentials?: DigestCredentials;
  /** HTTPS: verify the phone's certificate (phones carry Polycom-issued device certificates). */
  rejectUnauthorized?: boolean;
  ca?: Buffer;
  userAgent?: string;
}

export interface PushResult {
  status: number | 'timeout' | 'error';
  reason?: string;
  address: string;
  rttMs?: number;
  sentAt?: number;
  challenges: number;
  error?: string;
}

interface Exchange {
  status: number;
  reason: string;
  wwwAuthenticate?: string;
}

function post(url: URL, headers: Record<string, string>, body: Buffer, opts: PushOptions, signal: AbortSignal): Promise<Exchange> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      { method: 'POST', headers: { ...headers, 'Content-Length': String(body.length) }, rejectUnauthorized: opts.rejectUnauthorized ?? true, ...(opts.ca ? { ca: opts.ca } : {}), signal, agent: false },
      (res) => {
        res.resume(); // the body (an HTML status page) is of no interest
        res.on('end', () => {
          const wa = res.headers['www-authenticate'];
          resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', wwwAuthenticate: Array.isArray(wa) ? wa.find((v) => /^\s*digest/i.test(v)) : wa });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** POSTs Action:UpdateConfig to `url`, answering one Digest challenge. Never throws. */
export async function sendPush(urlText: string, opts: PushOptions): Promise<PushResult> {
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    return { status: 'error', address: urlText, challenges: 0, error: 'not a URL' };
  }
  const address = url.host;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs);
  const started = performance.now();
  const sentAt = Date.now();
  const body = Buffer.from(PUSH_BODY, 'utf8');
  const headers: Record<string, string> = { 'Content-Type': PUSH_CONTENT_TYPE, 'User-Agent': opts.userAgent ?? 'polyprov' };
  let challenges = 0;
  try {
    let t0 = performance.now();
    let r = await post(url, headers, body, opts, ac.signal);
    if (r.status === 401 && r.wwwAuthenticate && opts.credentials) {
      const ch = digestChallenge(r.wwwAuthenticate);
      const auth = ch ? new DigestClient().authorize(ch, opts.credentials, 'POST', url.pathname + url.search) : undefined;
      if (auth) {
        challenges++;
        t0 = performance.now();
        r = await post(url, { ...headers, Authorization: auth }, body, opts, ac.signal);
      }
    }
    const out: PushResult = { status: r.status, reason: r.reason, address, rttMs: Math.round((performance.now() - t0) * 10) / 10, sentAt, challenges };
    if (r.status === 401) out.error = opts.credentials ? 'credentials refused (apps.push.username/password)' : 'the push server asks for credentials; give --user and --password-stdin';
    return out;
  } catch (err) {
    if (ac.signal.aborted) return { status: 'timeout', address, sentAt, challenges, error: `no answer within ${Math.round(performance.now() - started)} ms` };
    return { status: 'error', address, sentAt, challenges, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
