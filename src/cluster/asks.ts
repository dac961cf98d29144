// Questions a worker asks over the cluster's IPC channel and the answers it waits for (a sibling's
// Digest nonce, a TLS session of the primary's cache): each ask gets an id, the answer with that id
// settles it, and no answer within the timeout — or no channel — settles it with `miss`, so a
// request never hangs on the primary. A late answer (its ask already a miss) is dropped.
export class Asks<T> {
  readonly #pending = new Map<number, { resolve(v: T): void; timer: NodeJS.Timeout }>();
  #next = 1;

  constructor(
    private readonly miss: T,
    private readonly timeoutMs: number,
  ) {}

  /** Sends the question (given its id) when `connected`, and waits for its answer or the miss. */
  ask(connected: boolean, send: (id: number) => void): Promise<T> {
    return new Promise((resolve) => {
      if (!connected) return resolve(this.miss);
      const id = this.#next++;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(this.miss);
      }, this.timeoutMs);
      this.#pending.set(id, { resolve, timer });
      send(id);
    });
  }

  answer(id: number, v: T): void {
    const a = this.#pending.get(id);
    if (!a) return;
    this.#pending.delete(id);
    clearTimeout(a.timer);
    a.resolve(v);
  }
}
