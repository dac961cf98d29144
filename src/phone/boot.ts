// One boot of a virtual SoundPoint IP / SoundStation IP / VVX phone, as the documents give it:
// the bootROM stage (bootrom-stage.ts) then the application stage (application-stage.ts) for a
// reboot; the application alone for a restart or a check-sync, which becomes a reboot when the
// image changed or voIpProt.SIP.specialEvent.checkSync.alwaysReboot is 1 (white paper,
// Understanding Phone Update Behavior). This module owns the boot's shared state (BootContext):
// the phone's flash, loaded before and saved after; the record; each stage's boot server (its own
// discovery, white paper Stage 4 note), protocol (stage-protocol.ts), User-Agent and log.
//
// Faults (SEED-AG, Server Menu): File Transmit Tries, Retry Wait measured from the start of an
// attempt, an attempt being one try at every address of the server's name (up to 8; transfer.ts).
// White paper, Stage 4: with no reachable server "the phone will boot up using its internally
// cached configuration" and shows "Could not contact boot server using existing configuration".
import { performance } from 'node:perf_hooks';
import { formatUserAgent, partNumberFor } from '../config/models.ts';
import { inDir } from '../config/phone-layout.ts';
import { applicationStage } from './application-stage.ts';
import type { BootContext } from './boot-context.ts';
import { DEFAULT_SETTINGS, type BootEnv, type BootInput, type BootRecord, type BootSettings, type Stage } from './boot-types.ts';
import { wallClock } from '../util/clock.ts';
import { bootromStage } from './bootrom-stage.ts';
import type { FetchResult, FileClient } from './file-client.ts';
import { formatServerAddress, resolveFileRef, type FileRef, type ServerAddress } from './server-address.ts';
import { refForStage } from './stage-protocol.ts';
import type { PhoneCacheData } from './state.ts';
import { Transfers } from './transfer.ts';

export * from './boot-types.ts';

export async function bootPhone(input: BootInput): Promise<BootRecord> {
  const b = new PhoneBoot(input);
  try {
    return await b.run();
  } finally {
    await b.close();
  }
}

class PhoneBoot implements BootContext {
  readonly settings: BootSettings;
  readonly record: BootRecord;
  cache!: PhoneCacheData;
  stage: Stage = 'bootrom';
  server: ServerAddress;
  noServer: string | undefined;
  appVersion: string;
  private readonly env: BootEnv;
  private readonly transfers: Transfers;
  private readonly log: string[] = [];
  private readonly t0 = performance.now();
  private ua?: { stage: Stage; version: string; text: string };

  constructor(readonly input: BootInput) {
    this.settings = { ...DEFAULT_SETTINGS, ...input.settings };
    this.env = { clock: wallClock, makeClient: input.env?.makeClient ?? missingFactory, ...input.env } as BootEnv;
    this.transfers = new Transfers({
      tries: this.settings.tries,
      retryWaitSec: this.settings.retryWaitSec,
      maxServers: this.settings.maxServers,
      clock: this.env.clock,
      makeClient: this.env.makeClient,
      lookup: this.env.lookup,
      record: (r) => this.record.requests.push(r),
    });
    const p = input.profile;
    this.server = input.server;
    this.appVersion = p.appVersion;
    this.record = {
      mac: p.mac,
      model: p.model,
      partNumber: p.partNumber ?? partNumberFor(p.model),
      server: formatServerAddress(input.server, input.server.masterFile ?? ''),
      ...(input.server.ftpsMode ? { ftpsMode: input.server.ftpsMode } : {}),
      kind: input.kind ?? 'reboot',
      startedAt: new Date().toISOString(),
      durationMs: 0,
      master: null,
      image: { file: null, action: 'skipped' },
      appVersion: p.appVersion,
      configFrom: 'none',
      stages: [],
      requests: [],
      uploads: [],
      messages: [],
      contacted: false,
    };
  }

  async close(): Promise<void> {
    await this.transfers.close();
  }

  async run(): Promise<BootRecord> {
    this.cache = await this.input.state.load();
    this.cache.mac = this.input.profile.mac;
    this.cache.model = this.input.profile.model;
    if (this.cache.appVersion) this.appVersion = this.cache.appVersion;
    const kind = this.record.kind;
    if (kind === 'reboot') {
      await bootromStage(this);
      await applicationStage(this, 'boot');
    } else {
      const reboot = await applicationStage(this, kind === 'restart' ? 'restart' : 'check-sync');
      if (reboot) {
        this.record.rebooted = reboot;
        this.note(`rebooting: ${reboot}`);
        await bootromStage(this);
        await applicationStage(this, 'boot');
      }
    }
    this.record.appVersion = this.appVersion;
    this.cache.appVersion = this.appVersion;
    await this.input.state.save(this.cache);
    this.record.durationMs = Math.round(performance.now() - this.t0);
    return this.record;
  }

  async startStage(stage: Stage): Promise<void> {
    this.stage = stage;
    this.log.length = 0;
    const found = this.input.discover ? await this.input.discover(stage) : undefined;
    this.server = found?.server ?? this.input.server;
    this.noServer = found && !found.server ? found.detail : undefined;
    const spoken = refForStage({ server: this.server, path: '', key: '' }, stage, this.settings.bootromHttpPort).server;
    this.record.stages.push({
      stage,
      server: formatServerAddress(spoken, this.server.masterFile ?? ''),
      protocol: spoken.protocol,
      ...(found ? { discovery: { stage: found.stage, detail: found.detail, trace: found.trace } } : {}),
    });
  }

  note(msg: string): void {
    this.record.messages.push(msg);
    this.log.push(`${new Date().toISOString()} ${this.stage === 'bootrom' ? 'boot' : 'app '}: ${msg}`);
  }

  stageLog(): string {
    return this.log.join('\n') + '\n';
  }

  transfer(ref: FileRef, op: 'get' | 'head' | 'put', body?: Buffer, append?: boolean): Promise<FetchResult> {
    return this.transfers.transfer(this.stage, this.userAgent(), refForStage(ref, this.stage, this.settings.bootromHttpPort), op, body, append);
  }

  inDirectory(dir: string, name: string): { ref: FileRef; key: string } {
    const key = inDir(dir, name);
    return { ref: resolveFileRef(this.server, key), key };
  }

  private userAgent(): string {
    const p = this.input.profile;
    const version = this.stage === 'bootrom' ? p.bootromVersion : this.appVersion;
    // The same string for every request of a stage: built once per stage and version.
    if (this.ua && this.ua.stage === this.stage && this.ua.version === version) return this.ua.text;
    const text = formatUserAgent({ model: p.model, version, stage: this.stage === 'bootrom' ? 'updater' : 'application', serial: p.tagSerial ? p.mac : undefined });
    this.ua = { stage: this.stage, version, text };
    return text;
  }
}

function missingFactory(): FileClient {
  throw new Error('bootPhone: no client factory given');
}
