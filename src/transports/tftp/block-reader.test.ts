// Block sources cut content into framed DATA datagrams (RFC 1350 §5: 4-byte header, then up to
// blksize bytes; a block shorter than blksize, possibly empty, ends the transfer, §6). Checked
// against the plain content for chunk boundaries that fall anywhere, including inside a header.
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { FramedBlockSource, Framer, framedPayload, streamBlockSource } from './block-reader.ts';
import { DATA_HEADROOM } from './packet.ts';

function content(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}

/** Splits `b` into chunks of the given sizes, repeating the list. */
function chunks(b: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < b.length; i++) {
    const n = sizes[i % sizes.length];
    out.push(b.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** Reads framed blocks until a short one, as a ReadSession does; returns the payloads. */
async function drain(read: () => Promise<Buffer>, blksize: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < 100_000; i++) {
    const b = await read();
    expect(b.length).toBeGreaterThanOrEqual(DATA_HEADROOM);
    out.push(b.subarray(DATA_HEADROOM));
    if (b.length - DATA_HEADROOM < blksize) return out;
  }
  throw new Error('no final block');
}

describe.each([
  { size: 10_000, blksize: 512, sizes: [1000] },
  { size: 512 * 7, blksize: 512, sizes: [300, 5000] }, // whole number of blocks: the last is empty
  { size: 1_048_576, blksize: 1468, sizes: [65_536] },
  { size: 100_003, blksize: 1468, sizes: [1, 2, 1467, 1468, 1469, 4099] },
  { size: 0, blksize: 512, sizes: [1] },
  { size: 200_000, blksize: 65_464, sizes: [65_536, 1000] },
])('framed blocks: $size bytes, blksize $blksize, chunks $sizes', ({ size, blksize, sizes }) => {
  const data = content(size);
  const expectedBlocks = Math.floor(size / blksize) + 1;

  test('Framer + FramedBlockSource (read-worker path) give back the content, block by block', async () => {
    const framer = new Framer(blksize);
    const asked: number[] = [];
    const src = new FramedBlockSource(blksize, 256 * 1024, (n) => asked.push(n));
    for (const c of chunks(data, sizes)) {
      const f = framer.push(c);
      if (f) {
        expect(f.length % (blksize + DATA_HEADROOM)).toBe(0); // only whole datagrams before the end
        src.push(Buffer.from(f.buffer, f.byteOffset, f.byteLength));
      }
    }
    src.push(Buffer.from(framer.end()));
    src.end();
    const blocks = await drain(() => src.read(blksize), blksize);
    expect(blocks.length).toBe(expectedBlocks);
    expect(blocks.slice(0, -1).every((b) => b.length === blksize)).toBe(true);
    expect(Buffer.concat(blocks).equals(data)).toBe(true);
    expect(asked[0]).toBe(256 * 1024);
  });

  test('streamBlockSource (main-thread path) gives back the content, block by block', async () => {
    const src = streamBlockSource(Readable.from(chunks(data, sizes), { objectMode: false }), blksize);
    expect(src.framed).toBe(true);
    const blocks = await drain(() => src.read(blksize), blksize);
    src.close();
    expect(blocks.length).toBe(expectedBlocks);
    expect(Buffer.concat(blocks).equals(data)).toBe(true);
  });
});

describe('FramedBlockSource flow', () => {
  test('asks for more only when under half of highWater is buffered or on its way', () => {
    const blksize = 1000;
    const asked: number[] = [];
    const src = new FramedBlockSource(blksize, 10_000, (n) => asked.push(n));
    expect(asked).toEqual([10_000]);
    const framer = new Framer(blksize);
    src.push(Buffer.from(framer.push(content(10_000))!));
    // 10 blocks buffered; taking 5 leaves 5000 (not under half), the 6th leaves 4000: ask for 6000.
    for (let i = 0; i < 5; i++) expect(src.readSync(blksize)!.length).toBe(blksize + DATA_HEADROOM);
    expect(asked).toEqual([10_000]);
    src.readSync(blksize);
    expect(asked).toEqual([10_000, 6000]);
  });

  test('nothing buffered: readSync says so; a failure reaches read()', async () => {
    const src = new FramedBlockSource(512, 4096, () => {});
    expect(src.readSync(512)).toBeUndefined();
    const pending = src.read(512);
    src.fail('disk gone');
    await expect(pending).rejects.toThrow('disk gone');
  });

  test('framedPayload counts payload bytes of a run of datagrams', () => {
    expect(framedPayload(3 * 516, 512)).toBe(3 * 512);
    expect(framedPayload(2 * 516 + 4 + 10, 512)).toBe(2 * 512 + 10);
    expect(framedPayload(4, 512)).toBe(0);
  });
});
