// Wire-level behaviour with a raw control connection: what real clients never send.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import net from 'node:net';
import { TLSSocket, connect as tlsConnect } from 'node:tls';
import { FACTORY_PHONE, RawClient, connectData, epsvPort, pasvPort, readAll, run, startFixture, type Fixture } from './helpers.ts';
import { requirePeer } from '../support/peers.ts';
import { prng, seededBytes } from '../support/prng.ts';

let f: Fixture;
let tight: Fixture;
let limited: Fixture;

beforeAll(async () => {
  f = await startFixture({ tls: true });
  await writeFile(join(f.root, 'sip.ld'), seededBytes(4 * 1024 * 1024));
  // Larger than loopback socket buffers can absorb (tcp_rmem + tcp_wmem maxima), so ABOR meets a running transfer.
  await writeFile(join(f.root, 'big.ld'), seededBytes(64 * 1024 * 1024));
  tight = await startFixture({ server: { idleTimeoutMs: 300, passiveTimeoutMs: 300, maxSessionsPerAddress: 2 } });
  limited = await startFixture({ core: { uploadMaxBytesLog: 1000 } });
});
afterAll(async () => {
  for (const fx of [f, tight, limited]) {
    await fx?.close();
  }
});

async function loggedIn(fx = f): Promise<RawClient> {
  const c = await RawClient.connect(fx.port);
  expect((await c.reply()).code).toBe(220);
  await c.login();
  return c;
}

describe('FTP control connection', () => {
  test('Admin Guide, Server Menu: "Active FTP is not supported" — PORT and EPRT are refused with 502', async () => {
    const c = await loggedIn();
    expect((await c.cmd('PORT 127,0,0,1,200,10')).code).toBe(502);
    expect((await c.cmd('EPRT |1|127.0.0.1|51210|')).code).toBe(502);
    expect((await c.cmd('RETR sip.cfg')).code).toBe(425); // no passive listener either
    c.close();
  });

  test('RFC 2577 §5: a data connection from another address is refused; the client\'s own still works', async () => {
    const c = await loggedIn();
    const port = epsvPort((await c.cmd('EPSV')).text);
    const thief = await connectData(port, '127.0.0.2');
    const stolen = await readAll(thief).catch(() => Buffer.alloc(0));
    expect(stolen.length).toBe(0);
    const data = await connectData(port);
    c.send('RETR sip.cfg');
    expect((await c.reply()).code).toBe(150);
    const body = await readAll(data);
    expect(body.toString()).toContain('voIpProt');
    expect((await c.reply()).code).toBe(226);
    expect(f.logs.some((l) => l.level === 'warn' && l.obj.foreign === '127.0.0.2')).toBe(true);
    c.close();
  });

  test('RFC 959 §4.2: garbage, unknown verbs and binary junk get 5xx replies and the session keeps serving', async () => {
    const c = await loggedIn();
    expect((await c.cmd('XYZZY')).code).toBe(502);
    expect((await c.cmd('')).code).toBe(500);
    c.send(Buffer.from([0x00, 0x01, 0xfe, 0x80, 0x0d, 0x0a]));
    expect((await c.reply()).code).toBeGreaterThanOrEqual(500);
    expect((await c.cmd('TYPE X')).code).toBe(504);
    expect((await c.cmd('MODE B')).code).toBe(504);
    expect((await c.cmd('STRU R')).code).toBe(504);
    expect((await c.cmd('REST -5')).code).toBe(501);
    expect((await c.cmd('RETR')).code).toBe(501);
    expect((await c.cmd('NOOP')).code).toBe(200);
    c.close();
  });

  test('issue 5, garbage: an over-long line gets one 500 and the next command is served', async () => {
    const c = await loggedIn();
    c.send(Buffer.alloc(100_000, 0x41));
    c.send(Buffer.from('\r\nNOOP\r\n'));
    const r = await c.reply();
    expect(r.code).toBe(500);
    expect(r.text).toMatch(/too long/);
    expect((await c.reply()).code).toBe(200);
    // And a fresh session is still served.
    const d = await loggedIn();
    expect((await d.cmd('PWD')).code).toBe(257);
    c.close();
    d.close();
  });

  test('RFC 959 §4.2: commands before login are 530; a flood of pipelined commands is cut off with 421', async () => {
    const c = await RawClient.connect(f.port);
    await c.reply();
    expect((await c.cmd('RETR sip.cfg')).code).toBe(530);
    expect((await c.cmd('PASS x')).code).toBe(503);
    expect((await c.cmd('SYST')).code).toBe(215);
    c.send('NOOP\r\n'.repeat(500).slice(0, -2));
    let last = 0;
    for (let i = 0; i < 600 && !c.closed; i++) {
      try {
        last = (await c.reply(2000)).code;
      } catch {
        break;
      }
    }
    expect(last).toBe(421);
    c.close();
  });

  test('RFC 2389 FEAT lists EPSV, SIZE, MDTM, REST STREAM, UTF8 and AUTH TLS', async () => {
    const c = await RawClient.connect(f.port);
    await c.reply();
    const r = await c.cmd('FEAT');
    expect(r.code).toBe(211);
    for (const feat of ['EPSV', 'SIZE', 'MDTM', 'REST STREAM', 'UTF8', 'AUTH TLS', 'PBSZ', 'PROT']) expect(r.text).toContain(`\n ${feat}`);
    expect((await c.cmd('OPTS UTF8 ON')).code).toBe(200);
    c.close();
  });

  test('RFC 4217 §8-9: PBSZ and PROT need AUTH TLS first; PROT S/E are 536', async () => {
    const c = await RawClient.connect(f.port);
    await c.reply();
    expect((await c.cmd('PBSZ 0')).code).toBe(503);
    expect((await c.cmd('PROT P')).code).toBe(503);
    expect((await c.cmd('AUTH KERBEROS')).code).toBe(504);
    c.close();
  });

  test('RFC 4217 §4: commands pipelined after AUTH TLS in clear text are discarded, not run under TLS', async () => {
    const c = await RawClient.connect(f.port);
    await c.reply();
    c.send('AUTH TLS\r\nUSER PlcmSpIp\r\nPASS PlcmSpIp\r\n');
    expect((await c.reply()).code).toBe(234);
    c.sock.removeAllListeners('data');
    const t = tlsConnect({ socket: c.sock, rejectUnauthorized: false });
    await new Promise<void>((res, rej) => {
      t.once('secureConnect', () => res());
      t.once('error', rej);
    });
    const got: string[] = [];
    t.setEncoding('latin1');
    t.on('data', (d: string) => got.push(d));
    t.write('PWD\r\n');
    await waitFor(() => got.join('').includes('\r\n'));
    expect(got.join('')).toMatch(/^530 /); // the injected USER/PASS never ran
    t.destroy();
  });

  test('PROT P without TLS on the data connection: a clear-text data connection is dropped (425)', async () => {
    const c = await RawClient.connect(f.port);
    await c.reply();
    c.send('AUTH TLS');
    expect((await c.reply()).code).toBe(234);
    c.sock.removeAllListeners('data');
    const t = tlsConnect({ socket: c.sock, rejectUnauthorized: false });
    await new Promise<void>((res) => t.once('secureConnect', () => res()));
    const lines = tlsLines(t);
    for (const [line, code] of [['USER PlcmSpIp', 331], ['PASS PlcmSpIp', 230], ['PBSZ 0', 200], ['PROT P', 200]] as const) {
      t.write(`${line}\r\n`);
      expect((await lines.next()).code).toBe(code);
    }
    t.write('EPSV\r\n');
    const port = epsvPort((await lines.next()).text);
    const data = await connectData(port);
    data.write('GET / HTTP/1.0\r\n\r\n'); // not a TLS ClientHello
    t.write('RETR sip.cfg\r\n');
    expect((await lines.next()).code).toBe(150);
    expect((await lines.next()).code).toBe(425);
    data.destroy();
    t.destroy();
  });

  test('RFC 959 §5.1 minimum implementation: TYPE A/I, MODE S, STRU F, NOOP, SYST, and the rest of the small talk', async () => {
    const c = await loggedIn();
    for (const [line, code] of [
      ['TYPE A', 200], ['TYPE A N', 200], ['TYPE I', 200], ['TYPE L 8', 200], ['MODE S', 200], ['STRU F', 200],
      ['SYST', 215], ['HELP', 214], ['STAT', 211], ['OPTS UTF8 ON', 200], ['OPTS MLST type', 501], ['ALLO 1000', 200],
      ['CWD logs', 250], ['CDUP', 250], ['XPWD', 257], ['MKD x', 502], ['EPSV 2', 522], ['EPSV ALL', 200], ['PASV', 503],
    ] as const) {
      expect((await c.cmd(line)).code, line).toBe(code);
    }
    expect((await c.cmd('QUIT')).code).toBe(221);
    await waitFor(() => c.closed);
  });

  test('RFC 4217 §9 PROT C: the password travelled under TLS but the file would not, so the core sees `ftp` for transfers and `ftps` for SIZE', async () => {
    const c = await RawClient.connect(f.port);
    await c.reply();
    c.send('AUTH TLS');
    expect((await c.reply()).code).toBe(234);
    c.sock.removeAllListeners('data');
    const t = tlsConnect({ socket: c.sock, rejectUnauthorized: false });
    await new Promise<void>((res) => t.once('secureConnect', () => res()));
    const lines = tlsLines(t);
    for (const [line, code] of [['USER PlcmSpIp', 331], ['PASS PlcmSpIp', 230], ['PBSZ 0', 200], ['PROT C', 200], ['SIZE sip.cfg', 213]] as const) {
      t.write(`${line}\r\n`);
      expect((await lines.next()).code).toBe(code);
    }
    expect(f.service.requests.at(-1)).toMatchObject({ op: 'stat', transport: 'ftps' });
    t.write('EPSV\r\n');
    const data = await connectData(epsvPort((await lines.next()).text));
    t.write('RETR sip.cfg\r\n');
    expect((await lines.next()).code).toBe(150);
    expect((await readAll(data)).toString()).toContain('voIpProt');
    expect((await lines.next()).code).toBe(226);
    expect(f.service.requests.at(-1)).toMatchObject({ op: 'read', transport: 'ftp' });
    t.destroy();
  });

  test('RFC 3659 §5: REST then EPSV then RETR resumes at the offset (the order FileZilla and others use)', async () => {
    const c = await loggedIn();
    expect((await c.cmd('REST 10')).code).toBe(350);
    const port = epsvPort((await c.cmd('EPSV')).text);
    const data = await connectData(port);
    c.send('RETR sip.cfg');
    expect((await c.reply()).code).toBe(150);
    const body = await readAll(data);
    expect((await c.reply()).code).toBe(226);
    const whole = await readFile(join(f.root, 'sip.cfg'));
    expect(body.equals(whole.subarray(10))).toBe(true);
    // The offset is spent: the next RETR starts at 0.
    const port2 = epsvPort((await c.cmd('EPSV')).text);
    const data2 = await connectData(port2);
    c.send('RETR sip.cfg');
    expect((await c.reply()).code).toBe(150);
    expect((await readAll(data2)).equals(whole)).toBe(true);
    expect((await c.reply()).code).toBe(226);
    c.close();
  });

  test('RFC 3659 §5.5: REST past the end of the file is 554', async () => {
    const c = await loggedIn();
    await c.cmd('EPSV');
    expect((await c.cmd('REST 999999999')).code).toBe(350);
    expect((await c.cmd('RETR sip.cfg')).code).toBe(554);
    c.close();
  });

  test('issue 5, nothing outside the root: RETR ../../etc/passwd reaches the core as /etc/passwd', async () => {
    const c = await loggedIn();
    await c.cmd('EPSV');
    expect((await c.cmd('RETR ../../etc/passwd')).code).toBe(550);
    expect(f.service.requests.at(-1)?.path).toBe('/etc/passwd');
    expect((await c.cmd('CWD ../../..')).code).toBe(250);
    expect((await c.cmd('PWD')).text).toContain('"/"');
    c.close();
  });

  test('RFC 959 §4.1.3 ABORT: ABOR mid-download answers 426 then 226, and done() records the abort', async () => {
    const c = await loggedIn();
    const port = pasvPort((await c.cmd('PASV')).text);
    const data = await connectData(port);
    data.pause(); // let backpressure hold the transfer open
    c.send('RETR big.ld');
    expect((await c.reply()).code).toBe(150);
    await new Promise((r) => setTimeout(r, 100));
    c.send(Buffer.from([0xff, 0xf4, 0xff, 0xf2]));
    c.send('ABOR');
    expect((await c.reply()).code).toBe(426);
    expect((await c.reply()).code).toBe(226);
    data.destroy();
    expect((await c.cmd('NOOP')).code).toBe(200);
    const fin = f.service.finished.filter((x) => x.path === '/big.ld').at(-1);
    expect(fin?.outcome).toMatchObject({ aborted: true, status: 'ftp:426' });
    expect(fin!.outcome.bytes).toBeLessThan(64 * 1024 * 1024);
    c.close();
  });

  test('idle timeout closes a silent control connection with 421; a passive listener nobody uses times out (425)', async () => {
    const c = await loggedIn(tight);
    await c.cmd('EPSV');
    expect((await c.cmd('RETR sip.cfg')).code).toBe(150);
    expect((await c.reply(3000)).code).toBe(425);
    expect((await c.reply(3000)).code).toBe(421);
    c.close();
  });

  test('issue 5, garbage: 300 seeded random lines (known verbs, hostile arguments, raw bytes) each get a reply; NOOP still works', async () => {
    const rand = prng(42);
    const verbs = ['RETR', 'SIZE', 'MDTM', 'CWD', 'DELE', 'STOR', 'APPE', 'LIST', 'NLST', 'REST', 'TYPE', 'OPTS', 'PROT', 'PBSZ', 'ALLO', 'EPSV', 'MODE', 'STRU', 'HELP', 'STAT', 'FOO'];
    const pieces = ['..', '/', '\\', '%00', '\u0000', ' ', '~', '*', '-la', 'é', '0004f2000001-app.log', 'logs', '99999999999999999999', '-1', '\t'];
    const c = await loggedIn();
    for (let i = 0; i < 300; i++) {
      let line: string;
      if (rand() < 0.3) {
        const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)).filter((b) => b !== 0x0a));
        c.send(Buffer.concat([bytes, Buffer.from('\r\n')]));
      } else {
        const verb = verbs[Math.floor(rand() * verbs.length)]!;
        line = `${verb} ${Array.from({ length: Math.floor(rand() * 5) }, () => pieces[Math.floor(rand() * pieces.length)]).join('')}`;
        if (verb === 'STOR' || verb === 'APPE' || verb === 'LIST' || verb === 'NLST' || verb === 'RETR') line = `${verb} /nonexistent/${i}`;
        c.send(line);
      }
      const r = await c.reply(5000);
      expect(r.code).toBeGreaterThanOrEqual(200);
      if (r.code === 150) await c.reply(5000); // a transfer that started also ends
    }
    expect((await c.cmd('NOOP')).code).toBe(200);
    c.close();
  });

  test('RFC 959 §4.1.1: three wrong passwords close the connection with 421', async () => {
    const c = await RawClient.connect(f.port);
    await c.reply();
    for (let i = 0; i < 3; i++) {
      expect((await c.cmd('USER PlcmSpIp')).code).toBe(331);
      expect((await c.cmd('PASS guess' + i)).code).toBe(530);
    }
    expect((await c.reply()).code).toBe(421);
    await waitFor(() => c.closed);
  });

  test('upload over the core\'s size limit: 150, then 552 (PP_UPLOAD_TOO_LARGE), and nothing is stored', async () => {
    const c = await loggedIn(limited);
    const port = epsvPort((await c.cmd('EPSV')).text);
    const data = await connectData(port);
    // The factory phone (PlcmSpIp, staging on) uploads its own log where the master file says.
    c.send(`STOR logs/${FACTORY_PHONE}-app.log`);
    expect((await c.reply()).code).toBe(150);
    data.on('error', () => {});
    data.end(seededBytes(5000));
    const r = await c.reply();
    expect(r.code).toBe(552);
    expect(r.text).toContain('PP_UPLOAD_TOO_LARGE');
    expect((await c.cmd(`SIZE logs/${FACTORY_PHONE}-app.log`)).code).toBe(550);
    expect(await limited.stored(`logs/${FACTORY_PHONE}-app.log`)).toBeUndefined();
    c.close();
  });

  test.skipIf(!requirePeer('curl', 'curl'))('RFC 2428 EPSV over IPv6: a download from ::1', async () => {
    const v6 = await startFixture({ server: { host: '::1' } });
    try {
      const r = await run('curl', ['-sS', '--max-time', '10', '-g', `ftp://PlcmSpIp:PlcmSpIp@[::1]:${v6.port}/sip.cfg`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.toString()).toContain('voIpProt');
      expect(v6.service.requests.at(-1)?.remote.address).toBe('::1');
    } finally {
      await v6.close();
    }
  });

  test('implicit FTPS: a peer that never completes the TLS handshake is disconnected', async () => {
    const fx = await startFixture({ implicitTls: true, server: { idleTimeoutMs: 300 } });
    try {
      const c = await RawClient.connect(fx.port);
      c.send('USER PlcmSpIp'); // clear text where a ClientHello belongs
      await waitFor(() => c.closed, 5000);
      const quiet = await RawClient.connect(fx.port);
      await waitFor(() => quiet.closed, 5000);
      await waitFor(() => fx.server.sessionCount() === 0, 2000);
    } finally {
      await fx.close();
    }
  });

  test('passive ports come from the configured range (ftpPassivePortMin/Max), one listener per session', async () => {
    // A one-port range on a port the kernel just handed out (no fixed port numbers in tests).
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const only = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const fx = await startFixture({ server: { passivePortMin: only, passivePortMax: only } });
    try {
      const c = await loggedIn(fx);
      // Each EPSV closes the previous listener, so one port serves them all.
      for (let i = 0; i < 5; i++) expect(epsvPort((await c.cmd('EPSV')).text)).toBe(only);
      const port = epsvPort((await c.cmd('EPSV')).text);
      const data = await connectData(port);
      c.send('RETR sip.cfg');
      expect((await c.reply()).code).toBe(150);
      expect((await readAll(data)).toString()).toContain('voIpProt');
      expect((await c.reply()).code).toBe(226);
      c.close();
    } finally {
      await fx.close();
    }
  });

  test('session caps: a third session from one address gets 421', async () => {
    const a = await RawClient.connect(tight.port);
    const b = await RawClient.connect(tight.port);
    expect((await a.reply()).code).toBe(220);
    expect((await b.reply()).code).toBe(220);
    const c = await RawClient.connect(tight.port);
    expect((await c.reply()).code).toBe(421);
    for (const x of [a, b, c]) x.close();
  });
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tlsLines(t: TLSSocket) {
  let buf = '';
  t.setEncoding('latin1');
  t.on('data', (d: string) => {
    buf += d;
  });
  return {
    async next(): Promise<{ code: number; text: string }> {
      await waitFor(() => buf.includes('\r\n'));
      const i = buf.indexOf('\r\n');
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      return { code: Number(line.slice(0, 3)), text: line };
    },
  };
}
