// The files a phone ended up using, seen as a provisioning tree rooted at its boot-server path.
// The effective configuration is then computed by the same resolver `polyprov explain` uses
// (src/config/resolver.ts), so the phone and explain agree by construction of the same rules.
import type { TreeSource } from '../config/types.ts';

function norm(p: string): string {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(p)
    ? p
    : p
        .split('/')
        .filter((s) => s !== '' && s !== '.')
        .join('/');
}

export class FetchedTreeSource implements TreeSource {
  private readonly files = new Map<string, { path: string; body: Buffer }>();

  set(path: string, body: Buffer): void {
    const p = norm(path);
    // MAC-named files match in either case, as on a server (facts §1.1).
    this.files.set(p.toLowerCase(), { path: p, body });
  }

  async read(path: string): Promise<Buffer | null> {
    return this.files.get(norm(path).toLowerCase())?.body ?? null;
  }

  async exists(path: string): Promise<boolean> {
    return this.files.has(norm(path).toLowerCase());
  }

  async *list(): AsyncIterable<string> {
    for (const f of this.files.values()) yield f.path;
  }
}
