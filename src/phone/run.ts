// `polyprov phone run`: a virtual phone that stays up. It boots (bootROM then application), then
// listens on its SIP port for check-sync NOTIFYs and polls when prov.polling.* says so. A
// check-sync or a poll re-provisions the application (white paper, Understanding Phone Update
// Behavior); it becomes a full reboot only when voIpProt.SIP.specialEvent.checkSync.alwaysReboot
// is 1 or the application image changed (facts §4.1). SIGINT/SIGTERM stop it cleanly.
import type { Clock } from '../domain.ts';
import { wallClock } from '../util/clock.ts';
import { bootPhone, type BootInput, type BootKind, type BootRecord, type BootSettings, type PhoneProfile } from './boot.ts';
import type { ClientFactory } from './clients.ts';
import { listenSip, PhoneSipHandler, type ParamLookup, type SipListener, type SipTlsOptions } from './notify-listener.ts';
import { nextPoll, pollingConfig, type PollState } from './polling-schedule.ts';
import type { ServerAddress } from './server-address.ts';
import type { PhoneStateStore } from './state.ts';

export interface RunInput {
  server: ServerAddress;
  profile: PhoneProfile;
  state: PhoneStateStore;
  settings?: Partial<BootSettings>;
  makeClient: ClientFactory;
  /** SIP UDP listener HOST:PORT; default 127.0.0.1 and voIpProt.SIP.local.port (5060). */
  sip?: string;
  /** SIP over TLS on the same host: port (5061 by default in the CLI) and the phone's certificate. */
  sipTls?: SipTlsOptions;
  onBoot?: (rec: BootRecord) => void;
  onEvent?: (msg: string) => void;
  clock?: Clock;
  random?: () => number;
  /** Each stage's own discovery (white paper, Stage 4 note), when the phone discovers its server. */
  discover?: BootInput['discover'];
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export class VirtualPhone {
  private sip: SipListener | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private queued = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly poll: PollState;
  private stopped = false;
  private readonly clock: Clock;
  last: BootRecord | undefined;
  readonly records: BootRecord[] = [];
  nextPollAt: number | undefined;

  constructor(private readonly input: RunInput) {
    this.clock = input.clock ?? wallClock;
    this.poll = { startedAt: this.clock.now() };
  }

  get sipPort(): number | undefined {
    return this.sip?.port;
  }

  get sipTlsPort(): number | undefined {
    return this.sip?.tlsPort;
  }

  /** Effective parameter values of the last boot. */
  readonly param: ParamLookup = (name) => this.last?.resolution?.params.get(name)?.value;

  async start(): Promise<void> {
    await this.provision('reboot');
    const [host, portText] = splitHostPort(this.input.sip ?? `127.0.0.1:${this.param('voIpProt.SIP.local.port') || '5060'}`);
    const handler = new PhoneSipHandler(() => this.param);
    this.sip = await listenSip(
      host,
      Number(portText),
      handler,
      (from) => {
        this.event(`check-sync from ${from}`);
        void this.provision('check-sync');
      },
      this.input.sipTls ? { tls: this.input.sipTls } : {},
    );
    const s = this.sip;
    this.event(`listening for SIP NOTIFY check-sync on udp ${host}:${s.port}${s.tcp ? `, tcp ${host}:${s.port}` : ''}${s.tlsPort !== undefined ? `, tls ${host}:${s.tlsPort}` : ''}`);
    this.schedulePoll();
  }

  /** Runs one provisioning pass; passes never overlap, and requests made during one coalesce into one more. */
  provision(kind: BootKind): Promise<BootRecord | undefined> {
    if (kind !== 'reboot' && this.queued) return Promise.resolve(undefined);
    if (kind !== 'reboot') this.queued = true;
    const run = async (): Promise<BootRecord | undefined> => {
      if (kind !== 'reboot') this.queued = false;
      if (this.stopped) return undefined;
      const rec = await bootPhone({ server: this.input.server, profile: this.input.profile, state: this.input.state, kind, settings: this.input.settings, env: { makeClient: this.input.makeClient, clock: this.clock }, ...(this.input.discover ? { discover: this.input.discover } : {}) });
      this.last = rec;
      this.records.push(rec);
      if (this.records.length > 100) this.records.shift();
      this.input.onBoot?.(rec);
      if (kind !== 'reboot') this.schedulePoll();
      return rec;
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch((e) => this.event(`provisioning failed: ${(e as Error).message}`));
    return p;
  }

  private schedulePoll(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    const cfg = pollingConfig(this.param);
    const now = this.clock.now();
    const at = nextPoll(cfg, now, this.poll, this.input.profile.mac, this.input.random ?? Math.random);
    this.nextPollAt = at;
    if (at === undefined) return;
    this.event(`next poll (${cfg.mode}) at ${new Date(at).toISOString()}`);
    const arm = () => {
      const left = at - this.clock.now();
      this.timer = setTimeout(
        () => {
          if (this.clock.now() < at) return arm();
          this.poll.last = at;
          this.event('polling the boot server (prov.polling)');
          void this.provision('check-sync');
        },
        Math.max(0, Math.min(left, MAX_TIMER_MS)),
      );
      this.timer.unref?.();
    };
    arm();
  }

  private event(msg: string): void {
    this.input.onEvent?.(msg);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.sip?.close();
    this.sip = undefined;
    await this.chain.catch(() => undefined);
  }
}

function splitHostPort(s: string): [string, string] {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s);
  if (!m) return ['127.0.0.1', s];
  return [m[1]!, m[2]!];
}

/** Runs until SIGINT/SIGTERM; returns the exit code. */
export async function runPhone(input: RunInput): Promise<number> {
  const phone = new VirtualPhone(input);
  await phone.start();
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  input.onEvent?.('stopping');
  await phone.stop();
  return 0;
}
