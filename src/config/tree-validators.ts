// Validators of tree files derived from their content (issue 16, Several nodes: "every node
// answers the same bytes and the same validators for the same file"). The ETag is a hash of the
// bytes, so two nodes reading two copies of a tree (an NFS share, an rsync'd copy: other inodes,
// other mtimes) give the same ETag for the same file, and a phone that moves from one boot server
// to another keeps its conditional reads. A file's hash is computed once per version of the file
// on this host: a version is named by its identity (device, inode, size, mtime and ctime), and a
// new identity means new bytes may be there. Small files are hashed when read (they are read
// anyway, into the memory cache); large ones (images) are hashed by `hashFile` in a stream of
// reads, each chunk hashed as it comes, and concurrent askers share that one pass.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';

/** The fields of a stat that name one version of a file on this host. */
export interface FileIdentity {
  dev?: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export function identityKey(f: FileIdentity): string {
  return `${f.dev ?? 0}:${f.ino}:${f.size}:${f.mtimeMs}:${f.ctimeMs}`;
}

/**
 * A strong ETag (RFC 9110 §8.8.3) of these bytes, quoted: `"t-"` and the first 16 bytes of their
 * SHA-256, base64url. Equal bytes, equal tags, on every node.
 */
export function contentEtag(body: Buffer): string {
  return `"t-${createHash('sha256').update(body).digest().subarray(0, 16).toString('base64url')}"`;
}

function etagOfDigest(digest: Buffer): string {
  return `"t-${digest.subarray(0, 16).toString('base64url')}"`;
}

/** Content ETags of large files by identity, for every TreeFiles of the process (bounded). */
const known = new Map<string, string>();
const running = new Map<string, Promise<string>>();
const KNOWN_MAX = 100_000;
const HASH_CHUNK = 1 << 20;

export function knownEtag(f: FileIdentity): string | undefined {
  return known.get(identityKey(f));
}

export function rememberEtag(f: FileIdentity, etag: string): void {
  if (known.size >= KNOWN_MAX) known.clear();
  known.set(identityKey(f), etag);
}

/**
 * The content ETag of a large file, hashed in 1 MiB reads (the reads go to the thread pool; each
 * chunk's hash update takes the event loop a few milliseconds, so requests are served between
 * them). The file is opened once and checked against the identity it was asked for: when it has
 * changed since (rewritten in place), the result is not remembered under the old identity.
 */
export function hashFile(abs: string, f: FileIdentity): Promise<string> {
  const key = identityKey(f);
  const hit = known.get(key);
  if (hit) return Promise.resolve(hit);
  let p = running.get(key);
  if (p) return p;
  p = (async () => {
    const fh = await fsp.open(abs, 'r');
    try {
      const h = createHash('sha256');
      const buf = Buffer.allocUnsafe(HASH_CHUNK);
      let pos = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, HASH_CHUNK, pos);
        if (bytesRead === 0) break;
        h.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
      const etag = etagOfDigest(h.digest());
      const st = await fh.stat();
      if (pos === f.size && st.ino === f.ino && st.size === f.size && st.mtimeMs === f.mtimeMs && st.ctimeMs === f.ctimeMs) rememberEtag(f, etag);
      return etag;
    } finally {
      await fh.close().catch(() => undefined);
      running.delete(key);
    }
  })();
  running.set(key, p);
  return p;
}
