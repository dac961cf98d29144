// The boot storm's generated fleet: a provisioning tree for N phones (a master file, a site file,
// one per-phone file with a line password each, an image) written from the white paper's Master
// Configuration File section, each phone's MAC, and each phone's own loopback source address.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mac } from '../config/types.ts';
import { makeImage } from './image-header.ts';

/** 127.1.0.1, 127.1.0.2, … : every 127/8 address reaches the loopback interface on Linux. */
export function phoneSourceAddress(i: number): string {
  const n = i + 1;
  return `127.${1 + ((n >> 16) & 0x7f)}.${(n >> 8) & 0xff}.${n & 0xff}`;
}

export function stormMac(i: number): Mac {
  return `0004f2${(0x100000 + i).toString(16).padStart(6, '0').slice(-6)}` as Mac;
}

/** Writes a provisioning tree for `n` phones (written from the white paper's Master Configuration File section). */
export async function generateStormTree(root: string, n: number, imageSizeMb: number, appVersion = '4.0.15.1009'): Promise<void> {
  await mkdir(join(root, 'logs'), { recursive: true });
  await mkdir(join(root, 'overrides'), { recursive: true });
  await mkdir(join(root, 'contacts'), { recursive: true });
  await writeFile(
    join(root, '000000000000.cfg'),
    '<?xml version="1.0" standalone="yes"?>\n<!-- boot-storm tree: white paper, Master Configuration File -->\n' +
      '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="[PHONE_MAC_ADDRESS]-user.cfg, site.cfg" MISC_FILES="" ' +
      'LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides" CONTACTS_DIRECTORY="contacts" LICENSE_DIRECTORY=""/>\n',
  );
  await writeFile(
    join(root, 'site.cfg'),
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<polycomConfig>\n  <voIpProt voIpProt.server.1.address="pbx.example.com" voIpProt.SIP.specialEvent.checkSync.alwaysReboot="0"/>\n' +
      '  <tcpIpApp tcpIpApp.sntp.address="pool.ntp.org"/>\n  <prov prov.polling.enabled="0"/>\n</polycomConfig>\n',
  );
  await writeFile(join(root, 'sip.ld'), makeImage(appVersion, Math.round(imageSizeMb * 1024 * 1024)));
  // Per-phone files carry a line password each (the kind of file the server must guard).
  const batch: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const mac = stormMac(i);
    const ext = 1000 + i;
    batch.push(
      writeFile(
        join(root, `${mac}-user.cfg`),
        `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<polycomConfig>\n  <reg reg.1.address="${ext}" reg.1.label="${ext}" reg.1.auth.userId="${ext}" reg.1.auth.password="pw-${mac.slice(-6)}-${(i * 7919) % 100000}"/>\n</polycomConfig>\n`,
      ),
    );
    if (batch.length >= 256) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
}
