// The real boot service (src/core/boot-service.ts) for adapter integration tests (TFTP, FTP):
// the whole core over the in-memory store, on a tree in a temp dir, so a test of an adapter is
// also a test of the policy behind it (issue 12 item 7: the TFTP and FTP tests ran on fakes,
// which is how a policy bug in FTP went unseen). `ObservedCore` only watches: every request is
// handed to the real core unchanged and every result comes back unchanged; it keeps what the
// adapter asked for and how each transfer ended, for the tests to assert on.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Transport } from '../../src/domain.ts';
import { createBootService, type CoreBootService } from '../../src/core/boot-service.ts';
import type { BootRequest, BootResult, BootService, TransferOutcome } from '../../src/core/request.ts';
import type { ManagedFiles } from '../../src/fleet/types.ts';
import { loadServerOptions, type ServerOptions } from '../../src/options.ts';
import type { UploadKey } from '../../src/store/store.ts';
import { MemoryStore, openMemoryStore } from './memory-store.ts';

export interface FinishedTransfer {
  path: string;
  op: BootRequest['op'];
  transport: Transport;
  outcome: TransferOutcome;
}

/** Hands every request to the real core and notes what came and went; changes nothing. */
export class ObservedCore implements BootService {
  /** Every request as the adapter built it (without its body stream). */
  readonly requests: BootRequest[] = [];
  /** Every served file's completion, as the adapter reported it through `done(outcome)`. */
  readonly finished: FinishedTransfer[] = [];

  constructor(readonly core: CoreBootService) {}

  async handle(req: BootRequest): Promise<BootResult> {
    this.requests.push({ ...req, body: undefined });
    const r = await this.core.handle(req);
    if (r.kind === 'file') {
      const done = r.done.bind(r);
      r.done = (outcome: TransferOutcome) => {
        this.finished.push({ path: req.path, op: req.op, transport: req.transport, outcome });
        done(outcome);
      };
    }
    return r;
  }

  wireGarbage(transport: Transport): void {
    this.core.wireGarbage(transport);
  }
}

export interface BootCore {
  root: string;
  data: string;
  store: MemoryStore;
  options: Readonly<ServerOptions>;
  core: CoreBootService;
  service: ObservedCore;
  /** The current stored upload's bytes, or undefined. */
  stored(key: UploadKey): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

/**
 * A real core serving `root` (a temp dir is made when none is given), with the managed `fleet` when
 * given. Options are the server's defaults with a rate limit out of the way, then `opts`.
 */
export async function startBootCore(opts: Partial<ServerOptions> = {}, root?: string, fleet?: ManagedFiles): Promise<BootCore> {
  const dir = root ?? (await mkdtemp(join(tmpdir(), 'polyprov-core-root-')));
  const data = await mkdtemp(join(tmpdir(), 'polyprov-core-data-'));
  const store = await openMemoryStore(join(data, 'tmp'));
  const base = loadServerOptions({ root: dir, data }, {});
  const options = Object.freeze({ ...base, rateLimitPerSec: 1e6, rateLimitBurst: 1e6, ...opts, root: dir, data } as ServerOptions);
  const core = await createBootService({ options, store, log: pino({ level: 'silent' }), fleet });
  return {
    root: dir,
    data,
    store,
    options,
    core,
    service: new ObservedCore(core),
    async stored(key) {
      const f = await store.uploads.current(key);
      return f && (await f.read());
    },
    async close() {
      await core.close();
      await store.close();
      await rm(data, { recursive: true, force: true });
      if (!root) await rm(dir, { recursive: true, force: true });
    },
  };
}
