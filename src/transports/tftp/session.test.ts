// Session state machines on a simulated network: a virtual clock, and a seeded link that drops,
// duplicates and reorders datagrams. The peers at the other end are small independent models of
// an RFC 1350 / RFC 7440 client, written here so they share no code with the sessions.
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { Clock } from '../../domain.ts';
import { DATA_HEADROOM, decodePacket, encodeAck, encodeData, type Packet } from './packet.ts';
import { ReadSession, type BlockSource } from './read-session.ts';
import type { SessionConfig, SessionOutcome } from './session.ts';
import { WriteSession, type BlockSink } from './write-session.ts';
import { prng } from '../../../test/support/prng.ts';

// ---------- simulation ----------

interface Ev {
  t: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

class Sim implements Clock {
  t = 0;
  private seq = 0;
  private heap: Ev[] = [];
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): Ev {
    const e = { t: this.t + ms, seq: this.seq++, fn, cancelled: false };
    this.push(e);
    return e;
  }
  clearTimeout(h: unknown): void {
    (h as Ev).cancelled = true;
  }
  private less(a: Ev, b: Ev): boolean {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }
  private push(e: Ev): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  private pop(): Ev | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
  /** Runs events until `done()` or nothing is left, letting promises settle between events. */
  async run(done: () => boolean, maxEvents: number): Promise<number> {
    let n = 0;
    while (!done() && n < maxEvents) {
      await new Promise((r) => setImmediate(r));
      if (done()) break;
      const e = this.pop();
      if (!e) {
        await new Promise((r) => setImmediate(r));
        if (this.heap.length === 0) break;
        continue;
      }
      if (e.cancelled) continue;
      this.t = e.t;
      n++;
      e.fn();
    }
    return n;
  }
}

interface LinkModel {
  loss: number;
  dup: number;
  /** Extra random delay up to this many ms; larger than `delayMs` reorders. */
  jitterMs: number;
  delayMs: number;
}
const PERFECT: LinkModel = { loss: 0, dup: 0, jitterMs: 0, delayMs: 1 };

function link(sim: Sim, model: LinkModel, rand: () => number, deliver: (p: Packet) => void) {
  return (datagram: Buffer | Buffer[]): void => {
    const bytes = Buffer.isBuffer(datagram) ? Buffer.from(datagram) : Buffer.concat(datagram);
    const copies = rand() < model.loss ? 0 : rand() < model.dup ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      sim.setTimeout(() => deliver(decodePacket(bytes)), model.delayMs + rand() * model.jitterMs);
    }
  };
}

// ---------- content ----------

/** Deterministic bytes that differ per block, so a misplaced block changes the hash. */
function byteAt(i: number): number {
  return (i * 131 + (i >>> 9) * 7 + (i >>> 17)) & 0xff;
}

/** `framed`: blocks come with DATA_HEADROOM bytes of garbage in front, for the session to overwrite. */
function syntheticSource(size: number, chunk = 4096, framed = false): BlockSource & { closed: boolean; maxRead: number } {
  let pos = 0;
  const head = framed ? DATA_HEADROOM : 0;
  const s = {
    closed: false,
    maxRead: 0,
    framed,
    async read(n: number): Promise<Buffer> {
      s.maxRead = Math.max(s.maxRead, n);
      const len = Math.min(n, size - pos, chunk * 64);
      const b = Buffer.allocUnsafe(head + Math.max(0, len)).fill(0xee, 0, head);
      for (let k = head; k < b.length; k++) b[k] = byteAt(pos + k - head);
      pos += b.length - head;
      return b;
    },
    close() {
      s.closed = true;
    },
  };
  return s;
}

function syntheticHash(size: number): string {
  const h = createHash('sha256');
  const step = 1 << 20;
  for (let p = 0; p < size; p += step) {
    const b = Buffer.allocUnsafe(Math.min(step, size - p));
    for (let k = 0; k < b.length; k++) b[k] = byteAt(p + k);
    h.update(b);
  }
  return h.digest('hex');
}

// ---------- peers (client models) ----------

/** A downloading client (RFC 1350 receiver, RFC 7440 §4 window ACKs). */
function receiverPeer(opts: { blksize: number; windowsize: number; timeoutMs: number; oack: boolean }) {
  const hash = createHash('sha256');
  const st = { bytes: 0, done: false, digest: '', acksSent: 0 };
  let expected = 1;
  let lastAck = 0;
  let gapAt = -1;
  let send: (d: Buffer) => void = () => {};
  let sim!: Sim;
  let timer: Ev | undefined;
  const arm = () => {
    if (timer) sim.clearTimeout(timer);
    timer = st.done ? undefined : sim.setTimeout(() => ack(expected - 1), opts.timeoutMs * 3);
  };
  const ack = (abs: number) => {
    lastAck = abs;
    st.acksSent++;
    send(encodeAck(abs));
    arm();
  };
  return {
    st,
    attach(s: Sim, out: (d: Buffer) => void) {
      sim = s;
      send = out;
      arm();
    },
    deliver(p: Packet) {
      if (p.op === 'OACK') {
        if (expected === 1 && opts.oack) ack(0);
        return;
      }
      if (p.op !== 'DATA' || st.done) {
        if (p.op === 'DATA' && st.done && ((p.block - lastAck) & 0xffff) === 0) send(encodeAck(lastAck));
        return;
      }
      const diff = ((p.block - expected + 0x8000) & 0xffff) - 0x8000;
      if (diff < 0) {
        if (expected + diff === lastAck) ack(lastAck);
        return;
      }
      if (diff > 0) {
        if (gapAt !== expected) {
          gapAt = expected;
          ack(expected - 1);
        }
        return;
      }
      hash.update(p.data);
      st.bytes += p.data.length;
      expected++;
      if (p.data.length < opts.blksize) {
        st.done = true;
        st.digest = hash.digest('hex');
        ack(expected - 1);
        return;
      }
      if (expected - 1 - lastAck >= opts.windowsize) ack(expected - 1);
      else arm();
    },
  };
}

/** An uploading client (RFC 1350 sender, RFC 7440 window). */
function senderPeer(content: Buffer, opts: { blksize: number; windowsize: number; timeoutMs: number }) {
  const st = { done: false, dataSent: 0 };
  const blocks = Math.floor(content.length / opts.blksize) + 1;
  let base = 0; // 0: waiting for ACK 0 / OACK
  let next = 1;
  let started = false;
  let send: (d: Buffer) => void = () => {};
  let sim!: Sim;
  let timer: Ev | undefined;
  const block = (abs: number) => content.subarray((abs - 1) * opts.blksize, abs * opts.blksize);
  const arm = () => {
    if (timer) sim.clearTimeout(timer);
    timer = st.done ? undefined : sim.setTimeout(() => pump(true), opts.timeoutMs * 2);
  };
  const pump = (restart: boolean) => {
    if (!started) return arm();
    if (restart) next = base;
    while (next < base + opts.windowsize && next <= blocks) {
      st.dataSent++;
      send(encodeData(next, block(next)));
      next++;
    }
    arm();
  };
  return {
    st,
    attach(s: Sim, out: (d: Buffer) => void) {
      sim = s;
      send = out;
      arm();
    },
    deliver(p: Packet) {
      if (st.done) return;
      if ((p.op === 'ACK' && p.block === 0 && !started) || (p.op === 'OACK' && !started)) {
        started = true;
        base = 1;
        return pump(false);
      }
      if (p.op !== 'ACK' || !started) return;
      const lo = base - 1;
      const abs = lo + ((p.block - lo) & 0xffff);
      if (abs > next - 1 || abs === lo) return;
      base = abs + 1;
      if (abs >= blocks) {
        st.done = true;
        if (timer) sim.clearTimeout(timer);
        return;
      }
      next = base;
      pump(false);
    },
  };
}

// ---------- harness ----------

async function download(size: number, cfg: Partial<SessionConfig>, model: LinkModel, seed: number, framed = false) {
  const sim = new Sim();
  const rand = prng(seed);
  const config: SessionConfig = { blksize: 512, windowsize: 1, timeoutMs: 100, retries: 8, ...cfg };
  const peer = receiverPeer({ ...config, oack: (config.oack?.size ?? 0) > 0 });
  let outcome: SessionOutcome | undefined;
  let closed = false;
  const source = syntheticSource(size, 4096, framed);
  const session = new ReadSession(source, config, {
    clock: sim,
    send: link(sim, model, rand, (p) => peer.deliver(p)),
    onEnd: (o) => (outcome = o),
    onClose: () => (closed = true),
  });
  peer.attach(sim, link(sim, model, rand, (p) => session.receive(p)));
  session.start();
  await sim.run(() => closed && peer.st.done, 2_000_000);
  return { outcome, closed, peer: peer.st, stats: session.stats, source };
}

async function upload(content: Buffer, cfg: Partial<SessionConfig>, model: LinkModel, seed: number, slowSink = false) {
  const sim = new Sim();
  const rand = prng(seed);
  const config: SessionConfig = { blksize: 512, windowsize: 1, timeoutMs: 100, retries: 8, ...cfg };
  const received: Buffer[] = [];
  let ended = false;
  let aborted = '';
  let writes = 0;
  const sink: BlockSink = {
    write(chunk) {
      received.push(Buffer.from(chunk));
      // Every third write pushes back, as a busy store would.
      if (slowSink && ++writes % 3 === 0) return new Promise((r) => sim.setTimeout(r, 5));
    },
    async end() {
      ended = true;
      return undefined;
    },
    abort(reason) {
      aborted = reason;
    },
  };
  const peer = senderPeer(content, config);
  let outcome: SessionOutcome | undefined;
  let closed = false;
  const session = new WriteSession(sink, config, {
    clock: sim,
    send: link(sim, model, rand, (p) => peer.deliver(p)),
    onEnd: (o) => (outcome = o),
    onClose: () => (closed = true),
  });
  peer.attach(sim, link(sim, model, rand, (p) => session.receive(p)));
  session.start();
  await sim.run(() => closed && peer.st.done, 2_000_000);
  return { outcome, closed, ended, aborted, data: Buffer.concat(received), peer: peer.st, stats: session.stats };
}

const LOSSY: LinkModel = { loss: 0.1, dup: 0.1, jitterMs: 8, delayMs: 1 };

// ---------- tests ----------

describe('ReadSession (RRQ)', () => {
  for (const size of [0, 511, 512, 513, 5000]) {
    test(`RFC 1350 §6: ${size}-byte file ends with a short (possibly empty) block; lock-step`, async () => {
      const r = await download(size, {}, PERFECT, 1);
      expect(r.outcome).toMatchObject({ ok: true, bytes: size });
      expect(r.peer.digest).toBe(syntheticHash(size));
      expect(r.stats.sent).toBe(Math.floor(size / 512) + 1);
      expect(r.source.closed).toBe(true);
    });
  }

  test('RFC 1123 §4.2.3.1: every ACK duplicated → every block still sent exactly once (no Sorcerer\'s Apprentice)', async () => {
    const dupAcks: LinkModel = { loss: 0, dup: 1, jitterMs: 0, delayMs: 1 };
    for (const windowsize of [1, 8]) {
      const size = 200 * 512 + 17;
      const r = await download(size, { windowsize }, dupAcks, 3);
      expect(r.outcome?.ok).toBe(true);
      expect(r.peer.digest).toBe(syntheticHash(size));
      expect(r.stats.sent).toBe(201);
      expect(r.stats.retransmits).toBe(0);
    }
  });

  test('RFC 1123 §4.2.3.1: a duplicate ACK fed directly causes no send', async () => {
    const sim = new Sim();
    const sent: Buffer[] = [];
    const s = new ReadSession(syntheticSource(2000), { blksize: 512, windowsize: 1, timeoutMs: 100, retries: 3 }, {
      clock: sim,
      send: (d) => sent.push(Buffer.concat([d].flat())),
      onEnd: () => {},
      onClose: () => {},
    });
    s.start();
    await sim.run(() => sent.length === 1, 10);
    s.receive({ op: 'ACK', block: 1 });
    await sim.run(() => sent.length === 2, 10);
    for (let i = 0; i < 5; i++) s.receive({ op: 'ACK', block: 1 });
    await new Promise((r) => setImmediate(r));
    expect(sent.length).toBe(2);
    expect(decodePacket(sent[1])).toMatchObject({ op: 'DATA', block: 2 });
  });

  for (const [windowsize, seed] of [
    [1, 42],
    [4, 43],
    [16, 44],
  ] as const) {
    test(`RFC 1350 §6 / RFC 7440 §4: 10% loss, 10% duplication, reordering (seed ${seed}), windowsize ${windowsize}: byte-identical`, async () => {
      const size = 300 * 1024 + 99;
      const r = await download(size, { windowsize, blksize: 1024, oack: new Map([['blksize', '1024']]) }, LOSSY, seed);
      expect(r.outcome).toMatchObject({ ok: true, bytes: size });
      expect(r.peer.digest).toBe(syntheticHash(size));
      // A window of memory at most: the source is never asked for more than one block at a time.
      expect(r.source.maxRead).toBe(1024);
    });
  }

  for (const size of [65535 * 512 - 2, 65535 * 512, 65535 * 512 + 2]) {
    test(`STYLE §7 / RFC 1350 §2: block number rolls over 65535 → 0 at ${size} bytes (synthetic content)`, async () => {
      const r = await download(size, { windowsize: 1 }, PERFECT, 5);
      expect(r.outcome).toMatchObject({ ok: true, bytes: size });
      expect(r.peer.digest).toBe(syntheticHash(size));
    }, 120_000);
  }

  // The sources the server uses hand out framed blocks; the session writes each DATA header in place.
  for (const [windowsize, seed, size] of [
    [1, 52, 512 * 9],
    [1, 53, 300 * 1024 + 99],
    [16, 54, 300 * 1024 + 99],
  ] as const) {
    test(`RFC 1350 §5: framed source (header written in place), lossy link (seed ${seed}), windowsize ${windowsize}, ${size} bytes: byte-identical`, async () => {
      const r = await download(size, { windowsize, blksize: 512 }, LOSSY, seed, true);
      expect(r.outcome).toMatchObject({ ok: true, bytes: size });
      expect(r.peer.digest).toBe(syntheticHash(size));
    });
  }

  test('STYLE §7 / RFC 1350 §2: framed source across the 65535 → 0 block wrap', async () => {
    const size = 65535 * 512 + 2;
    const r = await download(size, { windowsize: 8 }, PERFECT, 6, true);
    expect(r.outcome).toMatchObject({ ok: true, bytes: size });
    expect(r.peer.digest).toBe(syntheticHash(size));
  }, 120_000);

  test('RFC 1350 §2: a vanished client → bounded retries with back-off, then the session ends and closes', async () => {
    const sim = new Sim();
    const sent: number[] = [];
    let outcome: SessionOutcome | undefined;
    let closed = false;
    const source = syntheticSource(10_000);
    const s = new ReadSession(source, { blksize: 512, windowsize: 4, timeoutMs: 100, retries: 3 }, {
      clock: sim,
      send: () => sent.push(sim.now()),
      onEnd: (o) => (outcome = o),
      onClose: () => (closed = true),
    });
    s.start();
    await sim.run(() => closed, 1000);
    expect(outcome).toMatchObject({ ok: false, reason: 'timeout' });
    expect(source.closed).toBe(true);
    // 4 first sends, 3 window resends of 4, 1 ERROR; back-off doubles: 100, 200, 400, 800 ms.
    expect(sent.length).toBe(4 + 3 * 4 + 1);
    expect(sim.now()).toBe(100 + 200 + 400 + 800);
  });

  test('RFC 2347 §2: OACK first; the transfer starts on ACK 0 and survives a lost OACK', async () => {
    const size = 4000;
    const r = await download(size, { oack: new Map([['tsize', String(size)]]) }, { loss: 0.3, dup: 0, jitterMs: 0, delayMs: 1 }, 9);
    expect(r.outcome?.ok).toBe(true);
    expect(r.peer.digest).toBe(syntheticHash(size));
  });

  test('RFC 1350 §7: an ERROR from the peer ends the session without a reply', async () => {
    const sim = new Sim();
    const sent: Buffer[] = [];
    let outcome: SessionOutcome | undefined;
    const s = new ReadSession(syntheticSource(5000), { blksize: 512, windowsize: 1, timeoutMs: 100, retries: 3 }, {
      clock: sim,
      send: (d) => sent.push(Buffer.concat([d].flat())),
      onEnd: (o) => (outcome = o),
      onClose: () => {},
    });
    s.start();
    await sim.run(() => sent.length === 1, 10);
    s.receive({ op: 'ERROR', code: 0, message: 'user cancelled' });
    expect(outcome).toMatchObject({ ok: false, reason: 'peer-error' });
    expect(sent.length).toBe(1);
  });
});

describe('WriteSession (WRQ)', () => {
  const content = (n: number) => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = byteAt(i);
    return b;
  };

  for (const size of [0, 511, 512, 513]) {
    test(`RFC 1350 §6: ${size}-byte upload, ACK 0 first, short final block`, async () => {
      const r = await upload(content(size), {}, PERFECT, 1);
      expect(r.outcome).toMatchObject({ ok: true, bytes: size });
      expect(r.data.equals(content(size))).toBe(true);
      expect(r.ended).toBe(true);
    });
  }

  for (const [windowsize, seed, slow] of [
    [1, 42, false],
    [8, 43, false],
    [16, 44, true],
  ] as const) {
    test(`RFC 7440 §4: lossy, duplicating, reordering link (seed ${seed}), windowsize ${windowsize}${slow ? ', slow sink' : ''}: byte-identical`, async () => {
      const c = content(200 * 1024 + 5);
      const r = await upload(c, { windowsize, blksize: 1024 }, LOSSY, seed, slow);
      expect(r.outcome).toMatchObject({ ok: true, bytes: c.length });
      expect(r.data.equals(c)).toBe(true);
    });
  }

  test('RFC 1350 §2: upload across the 65535 → 0 block wrap (windowsize 16)', async () => {
    const c = content(65535 * 512 + 2);
    const r = await upload(c, { windowsize: 16 }, PERFECT, 6);
    expect(r.outcome).toMatchObject({ ok: true, bytes: c.length });
    expect(r.data.equals(c)).toBe(true);
  }, 120_000);

  test('RFC 1350 §2: a sender that vanishes → the sink is aborted after bounded retries', async () => {
    const sim = new Sim();
    let outcome: SessionOutcome | undefined;
    let aborted = '';
    let closed = false;
    const s = new WriteSession(
      { write() {}, end: async () => undefined, abort: (r) => (aborted = r) },
      { blksize: 512, windowsize: 1, timeoutMs: 100, retries: 2 },
      { clock: sim, send: () => {}, onEnd: (o) => (outcome = o), onClose: () => (closed = true) },
    );
    s.start();
    s.receive({ op: 'DATA', block: 1, data: Buffer.alloc(512) });
    await sim.run(() => closed, 100);
    expect(outcome).toMatchObject({ ok: false, reason: 'timeout', bytes: 512 });
    expect(aborted).toBe('timeout');
  });

  test('RFC 2348: DATA larger than the negotiated blksize is an illegal operation (ERROR 4)', async () => {
    const sent: Buffer[] = [];
    let outcome: SessionOutcome | undefined;
    const s = new WriteSession(
      { write() {}, end: async () => undefined, abort: () => {} },
      { blksize: 512, windowsize: 1, timeoutMs: 100, retries: 2 },
      { clock: new Sim(), send: (d) => sent.push(Buffer.concat([d].flat())), onEnd: (o) => (outcome = o), onClose: () => {} },
    );
    s.start();
    s.receive({ op: 'DATA', block: 1, data: Buffer.alloc(513) });
    expect(outcome).toMatchObject({ ok: false, reason: 'protocol' });
    expect(decodePacket(sent[sent.length - 1])).toMatchObject({ op: 'ERROR', code: 4 });
  });

  test('RFC 1350 §6: the sink\'s refusal at the end replaces the final ACK with its ERROR', async () => {
    const sent: Buffer[] = [];
    let aborted = '';
    const sim = new Sim();
    const s = new WriteSession(
      { write() {}, end: async () => ({ code: 3, message: 'too large' }), abort: (r) => (aborted = r) },
      { blksize: 512, windowsize: 1, timeoutMs: 100, retries: 2 },
      { clock: sim, send: (d) => sent.push(Buffer.concat([d].flat())), onEnd: () => {}, onClose: () => {} },
    );
    s.start();
    s.receive({ op: 'DATA', block: 1, data: Buffer.alloc(10) });
    await new Promise((r) => setImmediate(r));
    expect(decodePacket(sent[sent.length - 1])).toMatchObject({ op: 'ERROR', code: 3 });
    expect(aborted).toBe('content-error');
  });
});
