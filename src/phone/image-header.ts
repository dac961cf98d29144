// The simulated application image. A real `sip.ld` is a signed wrapper holding one image per
// hardware model (SEED-AG, BootROM and Application Wrapper); the bootROM downloads it only "if the
// copy on the boot server is different than the one stored in flash memory" (SEED-AG, BootROM
// step 6). Its format is not public, so polyprov's test images start with a fixed-size ASCII
// header that carries the version, and a phone decides from those bytes alone:
//
//   "POLYPROV-IMAGE/1 version=<app version> model=<token|*>" padded with spaces to 63 bytes, "\n"
//
// Any other file is identified by its first IMAGE_HEADER_BYTES bytes (hashed), so a real image
// still yields a stable "unchanged" decision.
import { createHash } from 'node:crypto';

export const IMAGE_HEADER_BYTES = 64;
const MAGIC = 'POLYPROV-IMAGE/1';

export interface ImageIdentity {
  /** What is compared with the cached image: the version, or a hash of the header bytes. */
  id: string;
  /** The application version the image carries, when the header says. */
  version?: string;
}

export function makeImageHeader(version: string, model = '*'): Buffer {
  const text = `${MAGIC} version=${version} model=${model}`;
  if (text.length > IMAGE_HEADER_BYTES - 1) throw new Error(`image header for version ${version} is too long`);
  return Buffer.from(text.padEnd(IMAGE_HEADER_BYTES - 1, ' ') + '\n', 'latin1');
}

/** A whole simulated image: the header, then `size` bytes in total of deterministic filler. */
export function makeImage(version: string, size: number, model = '*'): Buffer {
  const header = makeImageHeader(version, model);
  const total = Math.max(size, header.length);
  const img = Buffer.alloc(total);
  header.copy(img, 0);
  // Filler that does not compress to nothing, reproducible without randomness.
  let x = 0x9e3779b9;
  for (let i = header.length; i < total; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    img[i] = x >>> 24;
  }
  return img;
}

export function identifyImage(head: Buffer): ImageIdentity {
  const first = head.subarray(0, IMAGE_HEADER_BYTES);
  const m = /^POLYPROV-IMAGE\/1 version=(\S+)/.exec(first.toString('latin1'));
  if (m) return { id: `version:${m[1]}`, version: m[1] };
  return { id: `sha256:${createHash('sha256').update(first).digest('hex').slice(0, 32)}` };
}
