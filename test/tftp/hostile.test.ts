// Hostile and unlucky peers, driven with a raw UDP socket: vanishing clients, strangers on a
// session's port, a full server, oversize uploads, retransmitted requests and random garbage.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { encodeAck, encodeData, encodeRequest, OP_ACK, OP_DATA, OP_ERROR, OP_OACK, OP_RRQ, OP_WRQ } from '../../src/transports/tftp/packet.ts';
import { RawPeer, run, startFixture, waitFor, type Fixture } from './helpers.ts';
import { requirePeer } from '../support/peers.ts';
import { prng } from '../support/prng.ts';

let f: Fixture | undefined;
const peers: RawPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await f?.close();
  f = undefined;
});

async function peer(): Promise<RawPeer> {
  const p = await RawPeer.open();
  peers.push(p);
  return p;
}

describe('TFTP against hostile and unlucky peers', () => {
  test.each([0, 1])('RFC 1350 §2: a client that vanishes mid-transfer; the session gives up after its retries and is freed (%i read workers)', async (workers) => {
    f = await startFixture({ tftpTimeoutMs: 100, tftpRetries: 2 }, undefined, workers);
    await writeFile(join(f.dir, 'app.ld'), Buffer.alloc(100_000, 1));
    const c = await peer();
    c.send(encodeRequest('RRQ', 'app.ld'), f.port);
    const d1 = await c.next();
    expect(d1?.packet).toMatchObject({ op: 'DATA', block: 1 });
    c.send(encodeAck(1), d1!.port);
    expect((await c.next())?.packet).toMatchObject({ op: 'DATA', block: 2 });
    expect(f.server.sessionCount()).toBe(1);
    c.close(); // vanish
    peers.splice(peers.indexOf(c), 1);
    expect(await waitFor(() => f!.server.sessionCount() === 0, 5000)).toBe(true);
    expect(await waitFor(() => f!.service.finished.length === 1, 1000)).toBe(true);
    expect(f.service.finished[0].outcome).toMatchObject({ aborted: true, bytes: 512 });
  });

  test.each([0, 1])('RFC 1350 §4: a packet from a wrong TID gets ERROR 5 and the transfer carries on (%i read workers)', async (workers) => {
    f = await startFixture({}, undefined, workers);
    const body = Buffer.alloc(1600, 7); // four blocks: 512 × 3 + 64
    await writeFile(join(f.dir, 'a.cfg'), body);
    const c = await peer();
    const stranger = await peer();
    c.send(encodeRequest('RRQ', 'a.cfg'), f.port);
    const d1 = await c.next();
    expect(d1?.packet).toMatchObject({ op: 'DATA', block: 1 });
    stranger.send(encodeAck(1), d1!.port);
    expect((await stranger.next())?.packet).toMatchObject({ op: 'ERROR', code: 5 });
    const got: Buffer[] = [(d1!.packet as { data: Buffer }).data];
    for (let block = 1; block <= 3; block++) {
      c.send(encodeAck(block), d1!.port);
      const d = await c.next();
      expect(d?.packet).toMatchObject({ op: 'DATA', block: block + 1 });
      got.push((d!.packet as { data: Buffer }).data);
    }
    c.send(encodeAck(4), d1!.port);
    expect(Buffer.concat(got).equals(body)).toBe(true);
    expect(await waitFor(() => f!.server.sessionCount() === 0, 2000)).toBe(true);
  });

  test('issue 5: over tftpMaxSessions a request gets ERROR 0 "server busy"', async () => {
    f = await startFixture({ tftpMaxSessions: 1, tftpTimeoutMs: 100, tftpRetries: 1 });
    await writeFile(join(f.dir, 'a.cfg'), Buffer.alloc(5000));
    const a = await peer();
    const b = await peer();
    a.send(encodeRequest('RRQ', 'a.cfg'), f.port);
    expect((await a.next())?.packet).toMatchObject({ op: 'DATA', block: 1 });
    b.send(encodeRequest('RRQ', 'a.cfg'), f.port);
    const busy = await b.next();
    expect(busy?.packet).toMatchObject({ op: 'ERROR', code: 0 });
    expect((busy?.packet as { message: string }).message).toMatch(/busy/);
    // Once the first session times out, the slot is free again.
    expect(await waitFor(() => f!.server.sessionCount() === 0, 3000)).toBe(true);
    b.send(encodeRequest('RRQ', 'a.cfg'), f.port);
    expect((await b.next())?.packet).toMatchObject({ op: 'DATA', block: 1 });
  });

  test('RFC 2349 tsize: a WRQ announcing more than the upload limit is refused with ERROR 3 before any data', async () => {
    f = await startFixture({}, 10_000);
    const c = await peer();
    c.send(encodeRequest('WRQ', '0004f2000001-app.log', 'octet', { tsize: '10001' }), f.port);
    expect((await c.next())?.packet).toMatchObject({ op: 'ERROR', code: 3 });
    c.send(encodeRequest('WRQ', '0004f2000002-app.log', 'octet', { tsize: '10000', blksize: '1024' }), f.port);
    expect((await c.next())?.packet).toMatchObject({ op: 'OACK', options: new Map([['tsize', '10000'], ['blksize', '1024']]) });
  });

  test('issue 5: an upload that grows past the limit without tsize gets ERROR 3 mid-transfer', async () => {
    f = await startFixture({}, 1000);
    const c = await peer();
    c.send(encodeRequest('WRQ', '0004f2000001-app.log'), f.port);
    const a0 = await c.next();
    expect(a0?.packet).toMatchObject({ op: 'ACK', block: 0 });
    // The refusal comes from the boot service asynchronously, so collect every reply.
    const replies = [];
    for (let block = 1; block <= 4; block++) {
      c.send(encodeData(block, Buffer.alloc(512, 1)), a0!.port);
      const r = await c.next();
      if (r) replies.push(r);
      if (r?.packet?.op === 'ERROR') break;
    }
    for (let i = 0; i < 5 && !replies.some((r) => r.packet?.op === 'ERROR'); i++) {
      const r = await c.next(1000);
      if (r) replies.push(r);
    }
    expect(replies.find((r) => r.packet?.op === 'ERROR')?.packet).toMatchObject({ op: 'ERROR', code: 3 });
  });

  test('RFC 1350 §4: a retransmitted RRQ does not start a second transfer', async () => {
    f = await startFixture();
    await writeFile(join(f.dir, 'a.cfg'), Buffer.alloc(5000));
    const c = await peer();
    const rrq = encodeRequest('RRQ', 'a.cfg');
    c.send(rrq, f.port);
    c.send(rrq, f.port);
    c.send(rrq, f.port);
    const d1 = await c.next();
    expect(d1?.packet).toMatchObject({ op: 'DATA', block: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect(c.drain().filter((r) => r.port !== d1!.port)).toEqual([]);
    expect(f.server.sessionCount()).toBe(1);
  });

  test.skipIf(!requirePeer('tftp', 'tftp-hpa'))('issue 5: fuzz (seed 42, 3000 packets) of random and truncated packets, then a normal download still works', async () => {
    f = await startFixture({ tftpTimeoutMs: 100, tftpRetries: 1 });
    const body = Buffer.alloc(20_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    await writeFile(join(f.dir, 'after.cfg'), body);
    await writeFile(join(f.dir, 'x'), Buffer.alloc(700, 3));
    const rand = prng(42);
    const templates = [
      encodeRequest('RRQ', 'x', 'octet', { blksize: '8', windowsize: '3', tsize: '0', timeout: '1' }),
      encodeRequest('WRQ', '0004f2000001-app.log', 'octet', { tsize: '5' }),
      encodeRequest('RRQ', '../../etc/passwd'),
      encodeData(1, Buffer.alloc(600)),
      encodeAck(1),
      Buffer.from([0, OP_OACK, 0x62, 0]),
    ];
    const c = await peer();
    const sessionPorts = new Set<number>();
    for (let i = 0; i < 3000; i++) {
      let pkt: Buffer;
      const kind = rand();
      if (kind < 0.4) {
        pkt = Buffer.alloc(Math.floor(rand() * 80));
        for (let k = 0; k < pkt.length; k++) pkt[k] = Math.floor(rand() * 256);
        if (pkt.length >= 2 && rand() < 0.5) pkt[0] = 0;
        if (pkt.length >= 2 && rand() < 0.5) pkt[1] = [OP_RRQ, OP_WRQ, OP_DATA, OP_ACK, OP_ERROR, OP_OACK][Math.floor(rand() * 6)];
      } else {
        const t = templates[Math.floor(rand() * templates.length)];
        pkt = t.subarray(0, Math.floor(rand() * (t.length + 1)));
      }
      // Mostly the listen port; some at session ports we have seen, as a wrong or confused peer.
      const ports = [...sessionPorts];
      const port = ports.length > 0 && rand() < 0.3 ? ports[Math.floor(rand() * ports.length)] : f.port;
      c.send(pkt, port);
      if (i % 50 === 0) {
        for (const r of c.drain()) if (r.port !== f.port) sessionPorts.add(r.port);
        await new Promise((r) => setImmediate(r));
      }
    }
    expect(await waitFor(() => f!.server.sessionCount() === 0, 10_000)).toBe(true);
    const r = await run('tftp', ['127.0.0.1', String(f.port), '-m', 'binary', '-c', 'get', 'after.cfg', 'after.cfg'], f.out);
    expect(r.stderr).toBe('');
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(join(f.out, 'after.cfg'))).equals(body)).toBe(true);
  }, 60_000);

  test('RFC 1350 §5: garbage on the listen port is answered with ERROR 4 and never an ERROR to an ERROR', async () => {
    f = await startFixture();
    const c = await peer();
    c.send(Buffer.from([0, 9, 1, 2, 3]), f.port);
    expect((await c.next())?.packet).toMatchObject({ op: 'ERROR', code: 4 });
    c.send(encodeAck(3), f.port);
    expect((await c.next())?.packet).toMatchObject({ op: 'ERROR', code: 4 });
    c.send(Buffer.from([0, OP_ERROR, 0, 1, 0x41, 0]), f.port);
    c.send(Buffer.from([7]), f.port);
    expect(await c.next(300)).toBeUndefined();
  });
});
