// Did the phone come back for its configuration after the check-sync? A phone that accepted
// the NOTIFY re-reads its master file and CONFIG_FILES (white paper, "Reconfiguring the Phone
// Remotely"), which the boot server records in the inventory. One poller serves every pending
// target, so a fleet run costs one inventory query per phone per tick, not one timer each.
import type { Mac } from '../config/types.ts';

export interface SeenLookup {
  seenSince(mac: Mac, since: Date): Promise<boolean>;
}

export class ConfirmationPoller {
  private readonly pending = new Map<number, { mac: Mac; since: Date; deadline: number; resolve: (v: boolean) => void }>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private nextId = 0;

  constructor(private readonly lookup: SeenLookup, private readonly intervalMs = 500) {}

  /** Resolves true as soon as the phone shows up after `since`, false after `timeoutMs`. */
  confirm(mac: Mac, since: Date, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.pending.set(this.nextId++, { mac, since, deadline: performance.now() + timeoutMs, resolve });
      this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
      void this.tick();
    });
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const [id, p] of [...this.pending]) {
        let seen = false;
        try {
          seen = await this.lookup.seenSince(p.mac, p.since);
        } catch {
          seen = false; // a store hiccup is not a confirmation; try again next tick
        }
        if (seen || performance.now() >= p.deadline) {
          this.pending.delete(id);
          p.resolve(seen);
        }
      }
    } finally {
      this.ticking = false;
      if (this.pending.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const p of this.pending.values()) p.resolve(false);
    this.pending.clear();
  }
}
