// Shared by the lint unit tests: a small clean tree (white paper, Master Configuration File;
// facts §1.2-§1.4) that each test breaks in one way.
import type { ProvError } from '../../errors.ts';
import { lintTree, type LintOptions } from './index.ts';
import { MemTreeSource } from './mem-tree.ts';

export const CLEAN_MASTER = `<?xml version="1.0" standalone="yes"?>
<APPLICATION APP_FILE_PATH="" CONFIG_FILES="phones/[PHONE_MAC_ADDRESS].cfg, site.cfg" MISC_FILES="" LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides" CONTACTS_DIRECTORY="contacts" LICENSE_DIRECTORY=""/>
`;
export const CLEAN_SITE = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<polycomConfig>
  <httpd httpd.cfg.enabled="0"/>
  <voIpProt voIpProt.SIP.specialEvent.checkSync.alwaysReboot="0" voIpProt.server.1.address="pbx.example.com"/>
</polycomConfig>
`;

export function cleanTree(extra: Record<string, string | Buffer> = {}): Record<string, string | Buffer> {
  return { '000000000000.cfg': CLEAN_MASTER, 'site.cfg': CLEAN_SITE, ...extra };
}

export async function lintFiles(files: Record<string, string | Buffer>, opts: LintOptions = {}): Promise<ProvError[]> {
  return lintTree(new MemTreeSource(files), opts);
}

export function withCode(findings: ProvError[], code: string): ProvError[] {
  return findings.filter((f) => f.code === code);
}
