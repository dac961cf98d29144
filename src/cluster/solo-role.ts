// Which worker of `serve --workers N` holds TFTP and the admin listener (issue 16, One machine,
// every core: "A worker that dies is restarted"; "The admin listener (metrics, API) runs once and
// its metrics cover every worker"). One worker at a time holds both, worker 0 from the start; when
// the holder dies the primary hands both at once to a serving survivor, which opens them on the same
// ports. One other serving worker, the standby, has loaded their code and built the admin app (its
// routes registered: Fastify's ready()) beforehand, so the handover only binds two sockets —
// measured on 2 busy cores (load 6–15): TFTP and /healthz answer again 0.1–0.4 s after a SIGKILL,
// most of it the primary seeing the death; the standby binds in ~0.1 s (0.8 s with the app built
// but not ready, 2.9 s with nothing prepared), where a restart takes 2–6 s. The restarted worker
// does not take them back (a second move, a second gap); it may become the standby.
//
// Why one holder handed over, not both in every worker sharing the ports (issue 16 task
// "everyworker", option b):
// - The REST API reads the fleet from its process's snapshot, which follows another process's
//   write within the 250 ms store poll (fleet-service.ts POLL_MS): with connections dealt to every
//   worker, a client's GET after its PUT, or its If-Match, could meet a snapshot one poll old. One
//   API process reads its own writes, as before.
// - The API's failed-authentication limit per address (api/auth.ts) is one count; in N processes
//   it would be N counts (or a message to the primary per failure).
// - TFTP: a phone's retransmitted RRQ/WRQ must meet the process running its transfer (the request
//   keys in tftp/server.ts); with the UDP socket shared, the kernel gives it to any worker, which
//   starts a second transfer.
// - Fastify with the routes weighs ~17–19 MB per process (measured RSS: holder 126 MB, standby
//   125 MB, a plain worker 108 MB): once for the standby, not N-1 times.
// What it costs: during the handover the admin port refuses connections and TFTP requests go
// unanswered (a phone resends); transfers and API requests in flight in the dead worker are lost
// (a check-sync job it ran included), as are connections node:cluster handed it as it died.

export class SoloRole {
  #holder: number | undefined;
  #standby: number | undefined;

  /** The slot holding TFTP and the admin listener (or opening them now); undefined while none does. */
  get holder(): number | undefined {
    return this.#holder;
  }

  /** The serving worker that has their code loaded and the admin app built, unopened: the next holder. */
  get standby(): number | undefined {
    return this.#standby;
  }

  /** A worker starts (its hello): it opens them as it starts when no worker holds them — worker 0 at the first start. */
  atStart(slot: number): boolean {
    if (this.#holder !== undefined) return false;
    this.#holder = slot;
    return true;
  }

  /**
   * Worker `slot` is gone, or could not open them: if it held them, none does now. Returns the
   * serving worker (of `ready`, never `slot`) that takes them at once — the standby when it serves —
   * if any; otherwise the next worker to be ready or to start takes them.
   */
  release(slot: number, ready: readonly number[]): number | undefined {
    if (this.#standby === slot) this.#standby = undefined;
    if (this.#holder !== slot) return undefined;
    this.#holder = undefined;
    return this.offer(ready.filter((s) => s !== slot));
  }

  /** When none holds them: the standby, or else the lowest serving slot of `ready`, takes them (returned). */
  offer(ready: readonly number[]): number | undefined {
    if (this.#holder !== undefined || ready.length === 0) return undefined;
    const standby = this.#standby;
    this.#holder = standby !== undefined && ready.includes(standby) ? standby : Math.min(...ready);
    if (this.#holder === standby) this.#standby = undefined;
    return this.#holder;
  }

  /**
   * The standby, kept while it serves (a second one would be a second app built for nothing): when
   * there is none, the lowest serving slot other than the holder becomes it, and is returned (to be
   * told to prepare); undefined when nothing changed or no worker can be it.
   */
  nextStandby(ready: readonly number[]): number | undefined {
    const current = this.#standby;
    if (current !== undefined && current !== this.#holder && ready.includes(current)) return undefined;
    const others = ready.filter((s) => s !== this.#holder);
    this.#standby = others.length > 0 ? Math.min(...others) : undefined;
    return this.#standby === current ? undefined : this.#standby;
  }
}
