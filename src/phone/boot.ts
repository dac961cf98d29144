// The boot sequence of a SoundPoint IP / SoundStation IP / VVX phone, as the documents give it.
//
// bootROM (SEED-AG, BootROM steps 5–8): master file (a file named in the server address, else
// <MAC>.cfg, else 000000000000.cfg); the application image "if the copy on the boot server is
// different than the one stored in flash" (we read its header and hang up when it is not);
// "upload a log file with events from the boot cycle" (<MAC>-boot.log).
// Application (SEED-AG, Application; white paper; facts §3.2): master file again ("The BootROM
// and UC software application will each independently perform the provisioning discovery
// process"); CONFIG_FILES left to right; <MAC>-phone.cfg and <MAC>-web.cfg from
// OVERRIDES_DIRECTORY; licence files; <MAC>-directory.xml (000000000000-directory.xml only when
// the phone has no directory of its own); <MAC>-app.log; uploads of changed overrides/directory.
//
// Faults (SEED-AG, Server Menu): File Transmit Tries, Retry Wait measured from the start of an
// attempt, an attempt being one try at every address of the server's name (up to 8). White paper,
// Default Configuration Parameter Values: "If one or more files could not be read from the
// provisioning server, the phone will use the cached version for all configuration files". White
// paper, Stage 4: with no reachable server "the phone will boot up using its internally cached
// configuration" and shows "Could not contact boot server using existing configuration".
import { performance } from 'node:perf_hooks';
import { applyMaster, parseMasterFile } from '../config/master-file.ts';
import { formatUserAgent, partNumberFor } from '../config/models.ts';
import { inDir, joinTreePath, resolveDirectories, type Directories } from '../config/resolve-master.ts';
import { resolvePhone, toExplainJson, type Resolution } from '../config/resolver.ts';
import type { EffectiveMaster, MasterFile } from '../config/types.ts';
import { isProvError, type ProvError } from '../errors.ts';
import { COULD_NOT_CONTACT, DEFAULT_SETTINGS, realClock, type BootEnv, type BootInput, type BootRecord, type BootSettings, type Stage } from './boot-types.ts';
import { FetchedTreeSource } from './fetched-tree.ts';
import type { FetchResult, FileClient } from './file-client.ts';
import { identifyImage } from './image-header.ts';
import { formatServerAddress, resolveFileRef, type FileRef } from './server-address.ts';
import type { PhoneCacheData } from './state.ts';
import { Transfers } from './transfer.ts';

export * from './boot-types.ts';

/** Thrown inside a stage when no address of the boot server answered. */
class Unreachable extends Error {}

export async function bootPhone(input: BootInput): Promise<BootRecord> {
  const b = new PhoneBoot(input);
  try {
    return await b.run();
  } finally {
    await b.close();
  }
}

interface MasterFound {
  key: string;
  body: Buffer;
  em: EffectiveMaster;
  directories: Directories;
  from: 'server' | 'cache';
}

class PhoneBoot {
  private readonly s: BootSettings;
  private readonly env: BootEnv;
  private readonly transfers: Transfers;
  private cache!: PhoneCacheData;
  private readonly record: BootRecord;
  private stage: Stage = 'bootrom';
  private appVersion: string;
  private readonly log: string[] = [];
  private readonly t0 = performance.now();
  private ua?: { stage: Stage; version: string; text: string };

  constructor(private readonly input: BootInput) {
    this.s = { ...DEFAULT_SETTINGS, ...input.settings };
    this.env = { clock: realClock, makeClient: input.env?.makeClient ?? missingFactory, ...input.env } as BootEnv;
    this.transfers = new Transfers({
      tries: this.s.tries,
      retryWaitSec: this.s.retryWaitSec,
      maxServers: this.s.maxServers,
      clock: this.env.clock,
      makeClient: this.env.makeClient,
      lookup: this.env.lookup,
      record: (r) => this.record.requests.push(r),
    });
    const p = input.profile;
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
      requests: [],
      uploads: [],
      messages: [],
      contacted: false,
    };
  }

  async close(): Promise<void> {
    await this.transfers.close();
  }

  private transfer(ref: FileRef, op: 'get' | 'head' | 'put', body?: Buffer, append?: boolean): Promise<FetchResult> {
    return this.transfers.transfer(this.stage, this.userAgent(), ref, op, body, append);
  }

  async run(): Promise<BootRecord> {
    this.cache = await this.input.state.load();
    this.cache.mac = this.input.profile.mac;
    this.cache.model = this.input.profile.model;
    if (this.cache.appVersion) this.appVersion = this.cache.appVersion;
    const kind = this.record.kind;
    if (kind === 'reboot') {
      await this.bootromStage();
      await this.applicationStage('boot');
    } else {
      const reboot = await this.applicationStage(kind === 'restart' ? 'restart' : 'check-sync');
      if (reboot) {
        this.record.rebooted = reboot;
        this.note(`rebooting: ${reboot}`);
        await this.bootromStage();
        await this.applicationStage('boot');
      }
    }
    this.record.appVersion = this.appVersion;
    this.cache.appVersion = this.appVersion;
    await this.input.state.save(this.cache);
    this.record.durationMs = Math.round(performance.now() - this.t0);
    return this.record;
  }

  private note(msg: string): void {
    this.record.messages.push(msg);
    this.log.push(`${new Date().toISOString()} ${this.stage === 'bootrom' ? 'boot' : 'app '}: ${msg}`);
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

  // --- master file -----------------------------------------------------------------------

  /** SEED-AG, Master Configuration Files: specified file, else <MAC>.cfg, else 000000000000.cfg. */
  private async findMaster(): Promise<MasterFound | null> {
    const server = this.input.server;
    const mac = this.input.profile.mac;
    const names = [...(server.masterFile ? [server.masterFile] : []), `${mac}.cfg`, '000000000000.cfg'];
    let answered = false;
    for (const name of names) {
      const r = await this.transfer(resolveFileRef(server, name), 'get');
      if (r.status === 'error') {
        if (!answered) throw new Unreachable(r.error ?? r.wire);
        continue;
      }
      answered = true;
      if (r.status !== 'ok' || !r.body) continue;
      try {
        const found = this.interpretMaster(name, r.body, 'server');
        this.note(`master file ${name} read from the server`);
        return found;
      } catch (e) {
        if (!isProvError(e)) throw e;
        this.note(`master file ${name} could not be parsed (${(e as ProvError).code}); trying the next name`);
      }
    }
    this.note('no master file on the server');
    return null;
  }

  private interpretMaster(key: string, body: Buffer, from: 'server' | 'cache'): MasterFound {
    const p = this.input.profile;
    const master = parseMasterOnce(key, body);
    const em = applyMaster(master, { mac: p.mac, model: p.model, partNumber: p.partNumber ?? partNumberFor(p.model) });
    const problems: ProvError[] = [];
    const directories = resolveDirectories(em, '', problems);
    return { key, body, em, directories, from };
  }

  private cachedMaster(): MasterFound | null {
    const m = this.cache.master;
    if (!m) return null;
    try {
      return this.interpretMaster(m.key, m.body, 'cache');
    } catch {
      return null;
    }
  }

  /** A file in one of the master file's directories ('' = the boot-server path). */
  private inDirectory(dir: string, name: string): { ref: FileRef; key: string } {
    const key = inDir(dir, name);
    return { ref: resolveFileRef(this.input.server, key), key };
  }

  // --- bootROM ---------------------------------------------------------------------------

  private async bootromStage(): Promise<void> {
    this.stage = 'bootrom';
    this.log.length = 0;
    this.note(`bootROM ${this.input.profile.bootromVersion} starting; boot server ${this.record.server}`);
    let master: MasterFound | null;
    try {
      master = await this.findMaster();
    } catch (e) {
      if (!(e instanceof Unreachable)) throw e;
      this.note(`${COULD_NOT_CONTACT} (${e.message})`);
      this.record.image = { file: this.cache.image?.file ?? null, action: 'skipped', cachedVersion: this.cache.image?.version };
      return;
    }
    if (!master) {
      this.record.image = { file: null, action: 'skipped', cachedVersion: this.cache.image?.version };
      return;
    }
    await this.checkImage(master, false);
    if (this.s.uploadLogs) {
      // Log upload failures are not fatal: "The phone will still function without these permissions".
      const { ref } = this.inDirectory(master.directories.logs, `${this.input.profile.mac}-boot.log`);
      const r = await this.transfer(ref, 'put', Buffer.from(this.log.join('\n') + '\n'));
      this.record.uploads.push({ file: ref.path, status: r.status });
    }
  }

  /**
   * Compares the server's image with the cached one by its header and downloads it only when it
   * differs. Returns true when the phone now holds a different image (the application then restarts).
   */
  private async checkImage(master: MasterFound, fromApplication: boolean): Promise<boolean> {
    const cached = this.cache.image;
    const em = master.em;
    if (em.appFilePath === null) {
      // White paper: "If this field is set to null, the phone will not check for a software file."
      this.record.image = { file: null, action: 'none', cachedVersion: cached?.version };
      return false;
    }
    for (const candidate of em.appFileCandidates) {
      const path = joinTreePath('', candidate) ?? candidate;
      const ref = resolveFileRef(this.input.server, path);
      const head = await this.transfer(ref, 'head');
      if (head.status === 'not-found') continue;
      if (head.status !== 'ok' || !head.body) {
        this.record.image = { file: path, action: 'error', cachedVersion: cached?.version };
        this.note(`image ${path}: ${head.error ?? head.wire}; keeping the image in flash`);
        return false;
      }
      const id = identifyImage(head.body);
      if (cached && cached.id === id.id) {
        this.record.image = { file: path, action: 'unchanged', serverVersion: id.version, cachedVersion: cached.version };
        this.note(`image ${path} unchanged${id.version ? ` (${id.version})` : ''}`);
        return false;
      }
      if (fromApplication) {
        // The application only notices; the bootROM downloads it on the reboot that follows.
        this.record.image = { file: path, action: 'skipped', serverVersion: id.version, cachedVersion: cached?.version };
        return true;
      }
      const full = await this.transfer(ref, 'get');
      if (full.status !== 'ok' || !full.body) {
        this.record.image = { file: path, action: 'error', serverVersion: id.version, cachedVersion: cached?.version };
        this.note(`image ${path} download failed: ${full.error ?? full.wire}`);
        return false;
      }
      const got = identifyImage(full.body);
      this.cache.image = { file: path, id: got.id, version: got.version };
      if (got.version) this.appVersion = got.version;
      this.record.image = { file: path, action: 'downloaded', serverVersion: got.version, cachedVersion: cached?.version, bytes: full.body.length };
      this.note(`image ${path} downloaded (${full.body.length} bytes${got.version ? `, version ${got.version}` : ''})`);
      return true;
    }
    this.record.image = { file: em.appFileCandidates[0] ?? null, action: 'not-found', cachedVersion: cached?.version };
    this.note(`image ${em.appFileCandidates.join(' / ')} not found; keeping the image in flash`);
    return false;
  }

  // --- application -----------------------------------------------------------------------

  /**
   * 'boot' follows the bootROM; 'restart' is the application alone (white paper, Restarting the
   * Phone: it "reads the configuration files and loads the UC software application, but does not
   * load the BootROM"); 'check-sync' also serves polling. Returns a reason when the phone must
   * reboot instead.
   */
  private async applicationStage(mode: 'boot' | 'restart' | 'check-sync'): Promise<string | undefined> {
    this.stage = 'application';
    this.log.length = 0;
    this.note(`application ${this.appVersion} ${mode === 'check-sync' ? 'checking configuration (check-sync)' : 'starting'}`);
    const p = this.input.profile;
    let master: MasterFound | null = null;
    let contacted = true;
    try {
      master = await this.findMaster();
    } catch (e) {
      if (!(e instanceof Unreachable)) throw e;
      contacted = false;
      this.note(`${COULD_NOT_CONTACT} (${e.message})`);
    }
    this.record.contacted = contacted;
    if (master === null) master = this.cachedMaster();
    else this.cache.master = { key: master.key, body: master.body };
    this.record.master = master ? { file: master.key, from: master.from } : null;
    const source = new FetchedTreeSource();
    if (master) source.set(master.key, master.body);

    if (master && contacted && master.from === 'server' && mode !== 'boot') {
      // White paper, Understanding Phone Update Behavior: restart and check-sync compare the
      // software version too; a new image needs the bootROM, so the phone reboots.
      if (await this.checkImage(master, true)) return 'the application image changed';
    }

    // CONFIG_FILES, left to right. Any failure means the cached copies for all of them.
    if (master) {
      const fetched = new Map<string, Buffer>();
      let failed: string | undefined;
      if (contacted && master.from === 'server') {
        for (const entry of master.em.configFiles) {
          const key = joinTreePath('', entry) ?? entry;
          const r = await this.transfer(resolveFileRef(this.input.server, key), 'get');
          if (r.status === 'ok' && r.body) fetched.set(entry, r.body);
          else failed ??= `${entry} (${r.status === 'error' ? (r.error ?? r.wire) : r.status})`;
        }
      } else failed = master.from === 'cache' ? 'the master file' : 'the server';
      let use: Map<string, Buffer>;
      if (failed === undefined) {
        use = fetched;
        this.cache.configFiles = fetched;
        this.record.configFrom = 'server';
      } else if (this.cache.configFiles.size > 0) {
        use = this.cache.configFiles;
        this.record.configFrom = 'cache';
        if (contacted) this.note(`could not read ${failed}; using the cached copies of all configuration files`);
      } else {
        use = fetched;
        this.record.configFrom = fetched.size > 0 ? 'server' : 'none';
        if (contacted) this.note(`could not read ${failed}; no cached copies, so going on without it`);
      }
      for (const [entry, body] of use) source.set(joinTreePath('', entry) ?? entry, body);

      // Override files (white paper, Default Configuration Parameter Values): the server copy,
      // else "the phone will use the locally cached version". A local edit not yet uploaded wins.
      for (const kind of ['phone', 'web'] as const) {
        const { ref, key } = this.inDirectory(master.directories.overrides, `${p.mac}-${kind}.cfg`);
        if (contacted && !this.cache.pending[kind]) {
          const r = await this.transfer(ref, 'get');
          if (r.status === 'ok' && r.body) this.cache.overrides[kind] = r.body;
        }
        const body = this.cache.overrides[kind];
        if (body) source.set(key, body);
      }

      // Licence files: 404 is normal (facts §6.2).
      if (contacted) {
        for (const name of ['000000000000-license.cfg', `${p.mac}-license.cfg`]) {
          const { ref, key } = this.inDirectory(master.directories.licenses, name);
          const r = await this.transfer(ref, 'get');
          if (r.status === 'ok' && r.body) source.set(key, r.body);
        }
      }

      // Contact directory: read on boot; on check-sync only with dir.local.readonly="1".
      const readDirectory = mode !== 'check-sync' || (await this.resolve(source, master)).params.get('dir.local.readonly')?.value === '1';
      if (contacted && readDirectory && !this.cache.pending.directory) {
        const own = this.inDirectory(master.directories.contacts, `${p.mac}-directory.xml`);
        const r = await this.transfer(own.ref, 'get');
        if (r.status === 'ok' && r.body) this.cache.directory = r.body;
        else if (r.status === 'not-found' && !this.cache.directory) {
          // Where the seed lives is not documented: CONTACTS_DIRECTORY first, then the server
          // path where the distribution ships it (same order as the resolver's).
          const dirs = [...new Set([master.directories.contacts, ''])];
          for (const dir of dirs) {
            const seed = this.inDirectory(dir, '000000000000-directory.xml');
            const s = await this.transfer(seed.ref, 'get');
            // "the phone will save a copy of this file internally" (white paper).
            if (s.status === 'ok' && s.body) {
              this.cache.directory = s.body;
              break;
            }
            if (s.status !== 'not-found') break;
          }
        }
      }
      if (this.cache.directory) source.set(inDir(master.directories.contacts, `${p.mac}-directory.xml`), this.cache.directory);

      if (contacted) await this.uploads(master);
    }

    const needParams = this.s.computeEffective || mode === 'check-sync';
    if (needParams && master) {
      const r = await this.resolve(source, master);
      this.record.resolution = r;
      if (this.s.computeEffective) this.record.effective = toExplainJson(r, { showSecrets: false });
      if (mode === 'check-sync' && r.params.get('voIpProt.SIP.specialEvent.checkSync.alwaysReboot')?.value === '1') {
        return 'voIpProt.SIP.specialEvent.checkSync.alwaysReboot is 1';
      }
    }
    return undefined;
  }

  private resolve(source: FetchedTreeSource, master: MasterFound): Promise<Resolution> {
    const p = this.input.profile;
    return resolvePhone(source, { mac: p.mac, model: p.model, ...(p.partNumber ? { partNumber: p.partNumber } : {}) }, {
      // Named only when the boot-server address named it, so the reasons read as explain's do.
      ...(master.key === this.input.server.masterFile ? { masterName: master.key } : {}),
      hasLocalDirectory: this.cache.directory !== undefined,
    });
  }

  private async uploads(master: MasterFound): Promise<void> {
    const p = this.input.profile;
    if (this.s.uploadLogs) {
      const { ref } = this.inDirectory(master.directories.logs, `${p.mac}-app.log`);
      const r = await this.transfer(ref, 'put', Buffer.from(this.log.join('\n') + '\n'), true);
      this.record.uploads.push({ file: ref.path, status: r.status });
    }
    for (const kind of ['phone', 'web'] as const) {
      if (!this.cache.pending[kind] || !this.cache.overrides[kind]) continue;
      const { ref } = this.inDirectory(master.directories.overrides, `${p.mac}-${kind}.cfg`);
      const r = await this.transfer(ref, 'put', this.cache.overrides[kind]);
      this.record.uploads.push({ file: ref.path, status: r.status });
      if (r.status === 'ok') this.cache.pending[kind] = false;
      else this.note(`upload of ${ref.path} failed (${r.wire}); the phone keeps its local copy`);
    }
    if (this.cache.pending.directory && this.cache.directory) {
      const { ref } = this.inDirectory(master.directories.contacts, `${p.mac}-directory.xml`);
      const r = await this.transfer(ref, 'put', this.cache.directory);
      this.record.uploads.push({ file: ref.path, status: r.status });
      if (r.status === 'ok') this.cache.pending.directory = false;
      else this.note(`upload of ${ref.path} failed (${r.wire}); the phone keeps its local copy`);
    }
  }
}

/**
 * The master file is usually the same bytes for a whole fleet (000000000000.cfg): a storm of
 * phones in one process parses it once. The parsed form is never modified (applyMaster reads it).
 */
let lastMaster: { key: string; body: Buffer; master: MasterFile } | undefined;
function parseMasterOnce(key: string, body: Buffer): MasterFile {
  if (lastMaster && lastMaster.key === key && lastMaster.body.equals(body)) return lastMaster.master;
  const master = parseMasterFile(body, key);
  lastMaster = { key, body: Buffer.from(body), master };
  return master;
}

function missingFactory(): FileClient {
  throw new Error('bootPhone: no client factory given');
}
