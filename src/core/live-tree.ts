// The server's live content as a TreeSource: the files of the tree, with the phones' stored
// uploads (overrides, directories) in front, exactly as the boot service serves them. The
// resolver run over it tells what a phone gets from the running server, not just from disk.
import { TreeFiles } from '../config/tree-source.ts';
import type { TreeSource } from '../config/types.ts';
import type { Store } from '../store/store.ts';
import { uploadKindOf } from './file-names.ts';
import { joinRel, normaliseRequestPath, splitPath } from './paths.ts';

export class LiveTreeSource implements TreeSource {
  private readonly dir: TreeFiles;

  /** `hideOverrides`: read as if the phones had uploaded no override (the server's own view). */
  constructor(
    root: string,
    private readonly store: Store,
    private readonly opts: { hideOverrides?: boolean } = {},
  ) {
    this.dir = new TreeFiles(root);
  }

  async read(path: string): Promise<Buffer | null> {
    let rel: string;
    try {
      rel = normaliseRequestPath(path);
    } catch {
      return null;
    }
    const { dir, base } = splitPath(rel);
    const up = uploadKindOf(base);
    if (up && (up.kind === 'override-phone' || up.kind === 'override-web') && this.opts.hideOverrides) return null;
    if (up) {
      const stored = await this.store.uploads.current({ mac: up.mac, kind: up.kind, path: joinRel(dir, up.name) });
      if (stored) return stored.read();
    }
    return this.dir.read(path);
  }

  async exists(path: string): Promise<boolean> {
    return (await this.read(path)) !== null;
  }

  list(): AsyncIterable<string> {
    return this.dir.list();
  }
}
