// A small provisioning tree written by the tests, after the white paper's examples.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MAC1 = '0004f2000001';
export const MAC2 = '0004f2000002';

/** Writes files (path → content) under a fresh temp directory and returns it. */
export function makeTree(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'polyprov-tree-'));
  for (const [rel, content] of Object.entries(files)) {
    const abs = join(root, rel);
    mkdirSync(join(abs, '..'), { recursive: true });
    writeFileSync(abs, content);
  }
  return root;
}

export function tempDir(prefix = 'polyprov-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** White paper, Master Configuration File: separate directories for logs, overrides and contacts. */
export function standardTree(extra: Record<string, string | Buffer> = {}): string {
  return makeTree({
    '000000000000.cfg':
      '<?xml version="1.0" standalone="yes"?>\n<!-- white paper, Master Configuration File -->\n' +
      '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="[PHONE_MAC_ADDRESS]-line.cfg, site.cfg" MISC_FILES="" ' +
      'LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides" CONTACTS_DIRECTORY="contacts" LICENSE_DIRECTORY="licenses" CALL_LISTS_DIRECTORY="calls"/>\n',
    'site.cfg': '<polycomConfig tcpIpApp.sntp.address="pool.ntp.org" voIpProt.SIP.specialEvent.checkSync.alwaysReboot="0"/>\n',
    [`${MAC1}-line.cfg`]: '<polycomConfig reg.1.address="1001" reg.1.auth.userId="1001" reg.1.auth.password="line-one-secret"/>\n',
    [`${MAC2}-line.cfg`]: '<polycomConfig reg.1.address="1002" reg.1.auth.userId="1002" reg.1.auth.password="line-two-secret"/>\n',
    'sip.ld': Buffer.alloc(256 * 1024, 7),
    'logs/.keep': '',
    'overrides/.keep': '',
    'contacts/.keep': '',
    ...extra,
  });
}
