// The boot storm's raw HTTP connection (src/phone/http-raw.ts) against node:http, the reference:
// the same bytes on the wire, connection by connection, and the same answers, for every response
// framing a server may use; then a whole boot (Digest, SEED-AG BootROM step 6 header read and
// hang-up) through both.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { bootPhone } from '../../src/phone/boot.ts';
import { clientFactory } from '../../src/phone/clients.ts';
import type { FetchResult } from '../../src/phone/file-client.ts';
import { HttpFileClient } from '../../src/phone/http-client.ts';
import { makeImage } from '../../src/phone/image-header.ts';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { MemoryState } from '../../src/phone/state.ts';
import { startRecordingServer, type RecordingServer } from './recording-server.ts';

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
}
/** An answer: bytes written as they are (pieces with a pause between), then maybe a close. */
interface Answer {
  pieces: (string | Buffer)[];
  close?: boolean;
  /** Never answer (timeouts). */
  silent?: boolean;
  /** Write the pieces, then reset the connection. */
  reset?: boolean;
}

interface ScriptServer {
  port: number;
  /** What each connection received, in order. */
  conns: string[];
  close(): Promise<void>;
}

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server that records the raw bytes of each connection and answers from a script. */
async function scriptServer(answer: (r: Req) => Answer): Promise<ScriptServer> {
  const conns: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    const index = conns.push('') - 1;
    let buf = Buffer.alloc(0);
    let busy = false;
    const next = async () => {
      if (busy) return;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = buf.toString('latin1', 0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      const len = Number(headers['content-length'] ?? 0);
      if (buf.length < end + 4 + len) return;
      buf = buf.subarray(end + 4 + len);
      const [method, path] = lines[0]!.split(' ');
      const a = answer({ method: method!, path: path!, headers });
      if (a.silent) return;
      busy = true;
      for (const [i, p] of a.pieces.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, 15));
        if (sock.destroyed) return;
        sock.write(p);
      }
      busy = false;
      if (a.reset) sock.resetAndDestroy();
      else if (a.close) sock.end();
      else void next();
    };
    sock.on('data', (d: Buffer) => {
      conns[index] += d.toString('latin1');
      buf = Buffer.concat([buf, d]);
      void next();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const s: ScriptServer = {
    port: (server.address() as AddressInfo).port,
    conns,
    close: () =>
      new Promise<void>((r) => {
        for (const c of sockets) c.destroy();
        server.close(() => r());
      }),
  };
  servers.push(s);
  return s;
}

const ok = (body: string | Buffer, extra = ''): Answer => ({ pieces: [`HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n`, body] });
const IMAGE = makeImage('4.0.15.1009', 300_000);
const UA = 'FileTransport PolycomVVX-VVX_410-UA/4.0.15.1009 Type/Application';

/** Answers for every response framing the raw parser handles. */
function script(r: Req): Answer {
  const p = r.path;
  if (r.method === 'PUT') return { pieces: ['HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n'] };
  if (p === '/secret.cfg' && r.headers.authorization !== `Basic ${Buffer.from('phone:pw').toString('base64')}`) {
    return { pieces: ['HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\ncontent-length: 4\r\n\r\nnope'] };
  }
  switch (p) {
    case '/a.cfg':
    case '/secret.cfg':
      return ok('<polycomConfig/>\n');
    case '/sip.ld':
      return ok(IMAGE);
    case '/small.ld':
      return ok('tiny');
    case '/chunked.cfg':
      return { pieces: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello', '\r\n7;ext=1\r\n, world\r\n', '0\r\nx-trailer: 1\r\n\r\n'] };
    case '/chunked.ld':
      return { pieces: ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n', `${(100_000).toString(16)}\r\n`, IMAGE.subarray(0, 100_000), '\r\n0\r\n\r\n'] };
    case '/continue.cfg':
      return { pieces: ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'] };
    case '/close.cfg':
      return { ...ok('closing', 'Connection: close\r\n'), close: true };
    case '/until-close.cfg':
      return { pieces: ['HTTP/1.1 200 OK\r\n\r\nbody to the end', ' of the connection'], close: true };
    case '/idle-close.cfg':
      // A keep-alive answer, then the server drops the idle connection.
      return { ...ok('bye'), close: true };
    case '/no-content':
      return { pieces: ['HTTP/1.1 204 No Content\r\n\r\n'] };
    case '/teapot':
      return { pieces: ['HTTP/1.1 500 Internal Server Error\r\ncontent-length: 3\r\n\r\nerr'] };
    case '/split-head.cfg':
      return { pieces: ['HTTP/1.1 200 OK\r\ncontent-', 'length: 5\r\n\r', '\nsp', 'lit'] };
    case '/mid-reset.cfg':
      return { pieces: ['HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial'], reset: true };
    case '/silent.cfg':
      return { pieces: [], silent: true };
    default:
      return { pieces: ['HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n\r\nnot found'] };
  }
}

type Op = ['get' | 'head' | 'put', string, Buffer?];
const OPS: Op[] = [
  ['get', 'a.cfg'],
  ['get', 'missing.cfg'],
  ['put', 'logs/0004f2000001-app.log', Buffer.from('line one\nline two\n')],
  ['put', 'logs/empty.log', Buffer.alloc(0)],
  ['head', 'sip.ld'],
  ['get', 'a.cfg'],
  ['head', 'small.ld'],
  ['get', 'secret.cfg'],
  ['get', 'chunked.cfg'],
  ['head', 'chunked.ld'],
  ['get', 'continue.cfg'],
  ['get', 'split-head.cfg'],
  ['get', 'close.cfg'],
  ['get', 'no-content'],
  ['get', 'teapot'],
  ['get', 'until-close.cfg'],
  ['get', 'idle-close.cfg'],
  ['get', 'a b/ü.cfg'],
];

async function runOps(port: number, raw: boolean, ops: Op[]): Promise<FetchResult[]> {
  const server = parseServerAddress(`http://phone:pw@127.0.0.1:${port}/`);
  const agent = raw ? undefined : new http.Agent({ keepAlive: true, maxSockets: 2 });
  const c = new HttpFileClient(server, { address: '127.0.0.1', timeoutMs: 1500, agent, raw });
  const out: FetchResult[] = [];
  for (const [op, path, body] of ops) {
    out.push(op === 'get' ? await c.get(path, { userAgent: UA }) : op === 'head' ? await c.headThenHangUp(path, 64, { userAgent: UA }) : await c.put(path, body!, { userAgent: UA }));
    // Lets a server's close reach the client before the next request, for both alike.
    await new Promise((r) => setTimeout(r, 20));
  }
  await c.close();
  agent?.destroy();
  return out;
}

/** `bytes` of a header read depends on how TCP cut the stream; everything else must match. */
const comparable = (rs: FetchResult[]) => rs.map((r, i) => ({ ...r, ...(OPS[i]?.[0] === 'head' && r.status === 'ok' ? { bytes: r.bytes >= 64 } : {}) }));

describe('raw HTTP connection (boot storm) against node:http', () => {
  test('the same bytes on every connection and the same answers, for every response framing', async () => {
    const ref = await scriptServer(script);
    const viaNode = await runOps(ref.port, false, OPS);
    const raw = await scriptServer(script);
    const viaRaw = await runOps(raw.port, true, OPS);
    const fix = (conns: string[], port: number) => conns.map((c) => c.replaceAll(`127.0.0.1:${port}`, 'HOST'));
    expect(fix(raw.conns, raw.port)).toEqual(fix(ref.conns, ref.port));
    expect(comparable(viaRaw)).toEqual(comparable(viaNode));
    // What the answers were (so a common mistake in both would still show).
    expect(viaRaw.map((r) => r.wire)).toEqual(['200', '404', '201', '201', '200', '200', '200', '200', '200', '200', '200', '200', '200', '204', '500', '200', '200', '404']);
    expect(viaRaw[4]!.body).toEqual(IMAGE.subarray(0, 64));
    expect(viaRaw[6]!.body?.toString()).toBe('tiny');
    expect(viaRaw[8]!.body?.toString()).toBe('hello, world');
    expect(viaRaw[9]!.body).toEqual(IMAGE.subarray(0, 64));
    expect(viaRaw[15]!.body?.toString()).toBe('body to the end of the connection');
    // Connections: the image header reads hang up (twice), close.cfg, until-close.cfg and
    // idle-close.cfg end theirs; the Basic 401 keeps it.
    expect(raw.conns.length).toBe(6);
    expect(raw.conns[0]).toMatch(/^GET \/a\.cfg HTTP\/1\.1\r\nuser-agent: FileTransport PolycomVVX-VVX_410-UA\/4\.0\.15\.1009 Type\/Application\r\nhost: 127\.0\.0\.1:\d+\r\nConnection: keep-alive\r\n\r\n/);
    expect(raw.conns[0]).toContain('PUT /logs/0004f2000001-app.log HTTP/1.1\r\nuser-agent: ' + UA + '\r\ncontent-length: 18\r\nhost: ');
  }, 30_000);

  test('faults read as node:http reads them: no answer (timeout), refused, reset mid-response', async () => {
    const ops: Op[] = [['get', 'silent.cfg'], ['get', 'mid-reset.cfg']];
    const ref = await scriptServer(script);
    const viaNode = await runOps(ref.port, false, ops);
    const raw = await scriptServer(script);
    const viaRaw = await runOps(raw.port, true, ops);
    expect(viaRaw.map((r) => [r.status, r.wire])).toEqual(viaNode.map((r) => [r.status, r.wire]));
    expect(viaRaw.map((r) => r.wire)).toEqual(['timeout', 'ECONNRESET']);

    const closed = await scriptServer(script);
    const port = closed.port;
    await closed.close();
    const [refused] = await runOps(port, true, [['get', 'a.cfg']]);
    expect(refused).toMatchObject({ status: 'error', wire: 'ECONNREFUSED' });
  }, 30_000);
});

describe('a boot over the raw connection', () => {
  let rs: RecordingServer | undefined;
  afterEach(async () => {
    await rs?.close();
    rs = undefined;
  });

  test('facts §3.5 Digest and SEED-AG BootROM step 6: the same requests as node:http, image unchanged', async () => {
    const mac = '0004f2000001' as Mac;
    rs = await startRecordingServer(
      {
        '000000000000.cfg': '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="[PHONE_MAC_ADDRESS]-user.cfg, site.cfg" LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides" CONTACTS_DIRECTORY="contacts"/>\n',
        [`${mac}-user.cfg`]: '<polycomConfig><reg reg.1.address="1001"/></polycomConfig>\n',
        'site.cfg': '<polycomConfig><tcpIpApp tcpIpApp.sntp.address="pool.ntp.org"/></polycomConfig>\n',
        'sip.ld': makeImage('4.0.15.1009', 200_000),
      },
      { auth: { scheme: 'digest', user: 'phone1', password: 'p@ss:w/rd' } },
    );
    const boot = async (raw: boolean) => {
      const agent = raw ? undefined : new http.Agent({ keepAlive: true, maxSockets: 2 });
      const state = new MemoryState();
      (await state.load()).image = { file: 'sip.ld', id: 'version:4.0.15.1009', version: '4.0.15.1009' };
      const from = rs!.requests.length;
      const rec = await bootPhone({
        server: parseServerAddress(rs!.url.replace('//', '//phone1:p%40ss%3Aw%2Frd@')),
        profile: { mac, model: 'VVX410', bootromVersion: '5.0.0.0001', appVersion: '4.0.15.1009' },
        state,
        settings: { tries: 1, retryWaitSec: 0, computeEffective: false },
        env: { makeClient: clientFactory({ timeoutMs: 2000, httpAgent: agent, rawHttp: raw }) },
      });
      agent?.destroy();
      return { rec, seen: rs!.requests.slice(from).map((r) => `${r.method} ${r.path} ${r.status} ${r.userAgent} ${r.authorization?.split(' ')[0] ?? '-'}`) };
    };
    const viaNode = await boot(false);
    const viaRaw = await boot(true);
    expect(viaRaw.seen).toEqual(viaNode.seen);
    expect(viaRaw.rec.image.action).toBe('unchanged');
    expect(viaRaw.rec.configFrom).toBe('server');
    expect(viaRaw.rec.requests.every((r) => r.status !== 'error' && r.status !== 'denied')).toBe(true);
    // One challenge, then reused with a growing nonce count (http-client.ts, as libcurl does).
    expect(viaRaw.seen.filter((l) => l.includes(' 401 ')).length).toBe(1);
    expect(viaRaw.seen).toContain(`PUT logs/${mac}-app.log 204 FileTransport PolycomVVX-VVX_410-UA/4.0.15.1009 Type/Application Digest`);
  }, 30_000);
});
