// An in-memory TreeSource: for lint tests, the lint benchmark, and callers that build a tree in
// memory. MAC-named files match in either letter case, as TreeFiles does (facts §1.1).
import type { TreeSource } from '../types.ts';

function fold(p: string): string {
  return p.replace(/[0-9A-Fa-f]{12}/g, (m) => m.toLowerCase());
}

export class MemTreeSource implements TreeSource {
  private readonly files = new Map<string, Buffer>();
  private readonly folded = new Map<string, string>();

  constructor(files: Record<string, string | Buffer> = {}) {
    for (const [p, c] of Object.entries(files)) this.set(p, c);
  }

  set(path: string, content: string | Buffer): this {
    this.files.set(path, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    this.folded.set(fold(path), path);
    return this;
  }

  private find(path: string): string | undefined {
    return this.files.has(path) ? path : this.folded.get(fold(path));
  }

  async read(path: string): Promise<Buffer | null> {
    const p = this.find(path);
    return p === undefined ? null : this.files.get(p)!;
  }

  async exists(path: string): Promise<boolean> {
    return this.find(path) !== undefined;
  }

  async *list(): AsyncIterable<string> {
    yield* [...this.files.keys()].sort();
  }
}
