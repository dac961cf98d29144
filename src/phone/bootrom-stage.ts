// The bootROM stage (SEED-AG, BootROM steps 5–8; User-Agent "Type/Updater" with the bootROM
// version): the master file; the application image "if the copy on the boot server is different
// than the one stored in flash" (its header is read and the phone hangs up when it is not); "upload
// a log file with events from the boot cycle" (<MAC>-boot.log in LOG_FILE_DIRECTORY).
// checkImage is also the application's check on restart and check-sync (white paper,
// Understanding Phone Update Behavior): the application only notices a new image, the bootROM
// downloads it on the reboot that follows.
import { joinTreePath } from '../config/phone-layout.ts';
import { COULD_NOT_CONTACT } from './boot-types.ts';
import { Unreachable, type BootContext } from './boot-context.ts';
import { identifyImage } from './image-header.ts';
import { findMaster, type MasterFound } from './master-lookup.ts';
import { resolveFileRef } from './server-address.ts';

export async function bootromStage(ctx: BootContext): Promise<void> {
  await ctx.startStage('bootrom');
  const cached = ctx.cache.image;
  ctx.note(`bootROM ${ctx.input.profile.bootromVersion} starting; boot server ${ctx.record.stages.at(-1)!.server}`);
  let master: MasterFound | null;
  try {
    master = await findMaster(ctx);
  } catch (e) {
    if (!(e instanceof Unreachable)) throw e;
    ctx.note(`${COULD_NOT_CONTACT} (${e.message})`);
    ctx.record.image = { file: cached?.file ?? null, action: 'skipped', cachedVersion: cached?.version };
    return;
  }
  if (!master) {
    ctx.record.image = { file: null, action: 'skipped', cachedVersion: cached?.version };
    return;
  }
  await checkImage(ctx, master, false);
  if (ctx.settings.uploadLogs) {
    // Log upload failures are not fatal: "The phone will still function without these permissions".
    const { ref } = ctx.inDirectory(master.directories.logs, `${ctx.input.profile.mac}-boot.log`);
    const r = await ctx.transfer(ref, 'put', Buffer.from(ctx.stageLog()));
    ctx.record.uploads.push({ file: ref.path, status: r.status });
  }
}

/**
 * Compares the server's image with the cached one by its header and downloads it only when it
 * differs. Returns true when the phone now holds a different image (the application then restarts).
 */
export async function checkImage(ctx: BootContext, master: MasterFound, fromApplication: boolean): Promise<boolean> {
  const cached = ctx.cache.image;
  const em = master.em;
  if (em.appFilePath === null) {
    // White paper: "If this field is set to null, the phone will not check for a software file."
    ctx.record.image = { file: null, action: 'none', cachedVersion: cached?.version };
    return false;
  }
  for (const candidate of em.appFileCandidates) {
    const path = joinTreePath('', candidate) ?? candidate;
    const ref = resolveFileRef(ctx.server, path);
    const head = await ctx.transfer(ref, 'head');
    if (head.status === 'not-found') continue;
    if (head.status !== 'ok' || !head.body) {
      ctx.record.image = { file: path, action: 'error', cachedVersion: cached?.version };
      ctx.note(`image ${path}: ${head.error ?? head.wire}; keeping the image in flash`);
      return false;
    }
    const id = identifyImage(head.body);
    if (cached && cached.id === id.id) {
      ctx.record.image = { file: path, action: 'unchanged', serverVersion: id.version, cachedVersion: cached.version };
      ctx.note(`image ${path} unchanged${id.version ? ` (${id.version})` : ''}`);
      return false;
    }
    if (fromApplication) {
      // The application only notices; the bootROM downloads it on the reboot that follows.
      ctx.record.image = { file: path, action: 'skipped', serverVersion: id.version, cachedVersion: cached?.version };
      return true;
    }
    const full = await ctx.transfer(ref, 'get');
    if (full.status !== 'ok' || !full.body) {
      ctx.record.image = { file: path, action: 'error', serverVersion: id.version, cachedVersion: cached?.version };
      ctx.note(`image ${path} download failed: ${full.error ?? full.wire}`);
      return false;
    }
    const got = identifyImage(full.body);
    ctx.cache.image = { file: path, id: got.id, version: got.version };
    if (got.version) ctx.appVersion = got.version;
    ctx.record.image = { file: path, action: 'downloaded', serverVersion: got.version, cachedVersion: cached?.version, bytes: full.body.length };
    ctx.note(`image ${path} downloaded (${full.body.length} bytes${got.version ? `, version ${got.version}` : ''})`);
    return true;
  }
  ctx.record.image = { file: em.appFileCandidates[0] ?? null, action: 'not-found', cachedVersion: cached?.version };
  ctx.note(`image ${em.appFileCandidates.join(' / ')} not found; keeping the image in flash`);
  return false;
}
