// The application stage (User-Agent "Type/Application" with the application version): "The
// BootROM and UC software application will each independently perform the provisioning discovery
// process" (white paper, Stage 4), so the master file is read again; then CONFIG_FILES left to
// right (config-files.ts); <MAC>-phone.cfg and <MAC>-web.cfg from OVERRIDES_DIRECTORY; licence
// files; <MAC>-directory.xml (000000000000-directory.xml only when the phone has no directory of
// its own); <MAC>-app.log; uploads of changed overrides and directory (SEED-AG, Application;
// white paper, provisioning lifecycle; facts §3.2). The effective configuration is computed by
// the resolver `polyprov explain` uses, over the files the phone ended up with.
import { inDir, uploadName } from '../config/phone-layout.ts';
import { resolvePhone, toExplainJson, type Resolution } from '../config/resolver.ts';
import { COULD_NOT_CONTACT } from './boot-types.ts';
import { Unreachable, type BootContext } from './boot-context.ts';
import { checkImage } from './bootrom-stage.ts';
import { useConfigFiles } from './config-files.ts';
import { FetchedTreeSource } from './fetched-tree.ts';
import { cachedMaster, findMaster, type MasterFound } from './master-lookup.ts';

export type ApplicationMode = 'boot' | 'restart' | 'check-sync';

/**
 * 'boot' follows the bootROM; 'restart' is the application alone (white paper, Restarting the
 * Phone: it "reads the configuration files and loads the UC software application, but does not
 * load the BootROM"); 'check-sync' also serves polling. Returns a reason when the phone must
 * reboot instead.
 */
export async function applicationStage(ctx: BootContext, mode: ApplicationMode): Promise<string | undefined> {
  await ctx.startStage('application');
  ctx.note(`application ${ctx.appVersion} ${mode === 'check-sync' ? 'checking configuration (check-sync)' : 'starting'}`);
  let master: MasterFound | null = null;
  let contacted = true;
  try {
    master = await findMaster(ctx);
  } catch (e) {
    if (!(e instanceof Unreachable)) throw e;
    contacted = false;
    ctx.note(`${COULD_NOT_CONTACT} (${e.message})`);
  }
  ctx.record.contacted = contacted;
  if (master === null) master = cachedMaster(ctx);
  else ctx.cache.master = { key: master.key, body: master.body };
  ctx.record.master = master ? { file: master.key, from: master.from } : null;
  const source = new FetchedTreeSource();
  if (master) source.set(master.key, master.body);

  if (master && contacted && master.from === 'server' && mode !== 'boot') {
    // White paper, Understanding Phone Update Behavior: restart and check-sync compare the
    // software version too; a new image needs the bootROM, so the phone reboots.
    if (await checkImage(ctx, master, true)) return 'the application image changed';
  }

  if (master) {
    await useConfigFiles(ctx, master, contacted, source);
    await readOverrides(ctx, master, contacted, source);
    if (contacted) await readLicences(ctx, master, source);
    // Contact directory: read on boot; on check-sync only with dir.local.readonly="1".
    const readDirectory = mode !== 'check-sync' || (await resolve(ctx, source, master)).params.get('dir.local.readonly')?.value === '1';
    if (contacted && readDirectory) await readContactDirectory(ctx, master);
    const p = ctx.input.profile;
    if (ctx.cache.directory) source.set(inDir(master.directories.contacts, `${p.mac}-directory.xml`), ctx.cache.directory);
    if (contacted) await uploads(ctx, master);
  }

  const needParams = ctx.settings.computeEffective || mode === 'check-sync';
  if (needParams && master) {
    const r = await resolve(ctx, source, master);
    ctx.record.resolution = r;
    if (ctx.settings.computeEffective) ctx.record.effective = toExplainJson(r, { showSecrets: false });
    if (mode === 'check-sync' && r.params.get('voIpProt.SIP.specialEvent.checkSync.alwaysReboot')?.value === '1') {
      return 'voIpProt.SIP.specialEvent.checkSync.alwaysReboot is 1';
    }
  }
  return undefined;
}

/**
 * Override files (white paper, Default Configuration Parameter Values): the server copy, else
 * "the phone will use the locally cached version". A local edit not yet uploaded wins.
 */
async function readOverrides(ctx: BootContext, master: MasterFound, contacted: boolean, source: FetchedTreeSource): Promise<void> {
  const mac = ctx.input.profile.mac;
  for (const kind of ['phone', 'web'] as const) {
    const { ref, key } = ctx.inDirectory(master.directories.overrides, `${mac}-${kind}.cfg`);
    if (contacted && !ctx.cache.pending[kind]) {
      const r = await ctx.transfer(ref, 'get');
      if (r.status === 'ok' && r.body) ctx.cache.overrides[kind] = r.body;
    }
    const body = ctx.cache.overrides[kind];
    if (body) source.set(key, body);
  }
}

/** Licence files: 404 is normal (facts §6.2). */
async function readLicences(ctx: BootContext, master: MasterFound, source: FetchedTreeSource): Promise<void> {
  for (const name of ['000000000000-license.cfg', `${ctx.input.profile.mac}-license.cfg`]) {
    const { ref, key } = ctx.inDirectory(master.directories.licenses, name);
    const r = await ctx.transfer(ref, 'get');
    if (r.status === 'ok' && r.body) source.set(key, r.body);
  }
}

/**
 * <MAC>-directory.xml; when the server has none and the phone has no directory of its own, the
 * seed 000000000000-directory.xml: "the phone will save a copy of this file internally" (white
 * paper, Configuring Your Local Contact Directory). A local edit not yet uploaded wins.
 */
async function readContactDirectory(ctx: BootContext, master: MasterFound): Promise<void> {
  if (ctx.cache.pending.directory) return;
  const own = ctx.inDirectory(master.directories.contacts, uploadName(ctx.input.profile.mac, 'directory'));
  const r = await ctx.transfer(own.ref, 'get');
  if (r.status === 'ok' && r.body) {
    ctx.cache.directory = r.body;
    return;
  }
  if (r.status !== 'not-found' || ctx.cache.directory) return;
  // Where the seed lives is not documented: CONTACTS_DIRECTORY first, then the server path where
  // the distribution ships it (same order as the resolver's).
  for (const dir of new Set([master.directories.contacts, ''])) {
    const seed = ctx.inDirectory(dir, '000000000000-directory.xml');
    const s = await ctx.transfer(seed.ref, 'get');
    if (s.status === 'ok' && s.body) {
      ctx.cache.directory = s.body;
      return;
    }
    if (s.status !== 'not-found') return;
  }
}

function resolve(ctx: BootContext, source: FetchedTreeSource, master: MasterFound): Promise<Resolution> {
  const p = ctx.input.profile;
  return resolvePhone(source, { mac: p.mac, model: p.model, ...(p.partNumber ? { partNumber: p.partNumber } : {}) }, {
    // Named only when the boot-server address named it, so the reasons read as explain's do.
    ...(master.key === ctx.server.masterFile ? { masterName: master.key } : {}),
    hasLocalDirectory: ctx.cache.directory !== undefined,
  });
}

/** <MAC>-app.log, then local edits not yet uploaded (OVERRIDES_DIRECTORY, CONTACTS_DIRECTORY). */
async function uploads(ctx: BootContext, master: MasterFound): Promise<void> {
  const mac = ctx.input.profile.mac;
  const cache = ctx.cache;
  if (ctx.settings.uploadLogs) {
    const { ref } = ctx.inDirectory(master.directories.logs, uploadName(mac, 'log-app'));
    const r = await ctx.transfer(ref, 'put', Buffer.from(ctx.stageLog()), true);
    ctx.record.uploads.push({ file: ref.path, status: r.status });
  }
  const pending: Array<{ what: 'phone' | 'web' | 'directory'; dir: string; name: string; body: Buffer | undefined }> = [
    { what: 'phone', dir: master.directories.overrides, name: uploadName(mac, 'override-phone'), body: cache.overrides.phone },
    { what: 'web', dir: master.directories.overrides, name: uploadName(mac, 'override-web'), body: cache.overrides.web },
    { what: 'directory', dir: master.directories.contacts, name: uploadName(mac, 'directory'), body: cache.directory },
  ];
  for (const u of pending) {
    if (!cache.pending[u.what] || !u.body) continue;
    const { ref } = ctx.inDirectory(u.dir, u.name);
    const r = await ctx.transfer(ref, 'put', u.body);
    ctx.record.uploads.push({ file: ref.path, status: r.status });
    if (r.status === 'ok') cache.pending[u.what] = false;
    else ctx.note(`upload of ${ref.path} failed (${r.wire}); the phone keeps its local copy`);
  }
}
