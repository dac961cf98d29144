// What a phone keeps between boots (its flash): the image it runs, the last good copies of the
// master and configuration files, its override files and its contact directory, and the edits
// not yet uploaded. White paper, Default Configuration Parameter Values: when a file cannot be
// read from the server "the phone will use the cached version"; so a second boot with the same
// `--state DIR` behaves like a reboot of the same phone.
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mac } from '../config/types.ts';

export interface CachedImage {
  /** The image path the phone loaded it from (after part-number naming). */
  file: string;
  /** Identity compared at the next boot (image-header.ts). */
  id: string;
  version?: string;
}

export interface PhoneCacheData {
  mac?: Mac;
  model?: string;
  /** The boot server address last used (Server Menu value), so `phone run` can start without --server. */
  serverAddress?: string;
  image?: CachedImage;
  /** Version of the application the phone runs (from the image), used in the Application User-Agent. */
  appVersion?: string;
  /** The master file last read, keyed by the name it was read as. */
  master?: { key: string; body: Buffer };
  /** CONFIG_FILES as last read completely, keyed by the entry as written (after substitution). */
  configFiles: Map<string, Buffer>;
  overrides: { phone?: Buffer; web?: Buffer };
  /** The local contact directory (<MAC>-directory.xml content). */
  directory?: Buffer;
  /** Local edits made since the last successful upload. */
  pending: { phone?: boolean; web?: boolean; directory?: boolean };
}

export interface PhoneStateStore {
  load(): Promise<PhoneCacheData>;
  save(d: PhoneCacheData): Promise<void>;
}

export function emptyCache(): PhoneCacheData {
  return { configFiles: new Map(), overrides: {}, pending: {} };
}

/** Keeps the cache in memory only (boot storms, tests). */
export class MemoryState implements PhoneStateStore {
  private data: PhoneCacheData;
  constructor(initial: PhoneCacheData = emptyCache()) {
    this.data = initial;
  }
  async load(): Promise<PhoneCacheData> {
    return this.data;
  }
  async save(d: PhoneCacheData): Promise<void> {
    this.data = d;
  }
}

interface StateJson {
  format: 1;
  mac?: string;
  model?: string;
  serverAddress?: string;
  image?: CachedImage;
  appVersion?: string;
  masterKey?: string;
  configFiles: string[];
  pending: PhoneCacheData['pending'];
}

/**
 * The cache as a directory:
 *   state.json            what is cached, and the pending uploads
 *   files/master          the master file (its name is in state.json)
 *   files/config/<entry>  CONFIG_FILES copies, entry %-encoded into one file name
 *   files/phone.cfg, files/web.cfg, files/directory.xml
 */
export class DirState implements PhoneStateStore {
  constructor(readonly dir: string) {}

  async load(): Promise<PhoneCacheData> {
    let meta: StateJson;
    try {
      meta = JSON.parse(await readFile(join(this.dir, 'state.json'), 'utf8')) as StateJson;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyCache();
      throw e;
    }
    const files = join(this.dir, 'files');
    const opt = async (p: string): Promise<Buffer | undefined> => {
      try {
        return await readFile(join(files, p));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    };
    const d = emptyCache();
    d.mac = meta.mac as Mac | undefined;
    d.model = meta.model;
    d.serverAddress = meta.serverAddress;
    d.image = meta.image;
    d.appVersion = meta.appVersion;
    d.pending = meta.pending ?? {};
    if (meta.masterKey !== undefined) {
      const body = await opt('master');
      if (body) d.master = { key: meta.masterKey, body };
    }
    for (const key of meta.configFiles ?? []) {
      const body = await opt(join('config', encodeURIComponent(key)));
      if (body) d.configFiles.set(key, body);
    }
    d.overrides.phone = await opt('phone.cfg');
    d.overrides.web = await opt('web.cfg');
    d.directory = await opt('directory.xml');
    return d;
  }

  async save(d: PhoneCacheData): Promise<void> {
    const files = join(this.dir, 'files');
    await mkdir(join(files, 'config'), { recursive: true });
    const put = async (p: string, body: Buffer | undefined) => {
      const full = join(files, p);
      if (body === undefined) return rm(full, { force: true });
      await atomicWrite(full, body);
    };
    await put('master', d.master?.body);
    const keep = new Set<string>();
    for (const [key, body] of d.configFiles) {
      const name = encodeURIComponent(key);
      keep.add(name);
      await put(join('config', name), body);
    }
    for (const name of await readdir(join(files, 'config'))) if (!keep.has(name)) await rm(join(files, 'config', name), { force: true });
    await put('phone.cfg', d.overrides.phone);
    await put('web.cfg', d.overrides.web);
    await put('directory.xml', d.directory);
    const meta: StateJson = {
      format: 1,
      mac: d.mac,
      model: d.model,
      serverAddress: d.serverAddress,
      image: d.image,
      appVersion: d.appVersion,
      masterKey: d.master?.key,
      configFiles: [...d.configFiles.keys()],
      pending: d.pending,
    };
    await atomicWrite(join(this.dir, 'state.json'), Buffer.from(JSON.stringify(meta, null, 2) + '\n'));
  }
}

async function atomicWrite(path: string, body: Buffer): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, body);
  await rename(tmp, path);
}
