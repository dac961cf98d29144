// Every genuine Polycom file in ../shared/real-configs must parse (real-configs/README.md):
// master files as master files, configuration files with all their parameters, the seed
// contact directory template as a directory.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parseConfigFile } from './config-file.ts';
import { parseContactDirectory } from './contact-directory.ts';
import { applyMaster, parseMasterFile } from './master-file.ts';
import { resolvePhone } from './resolver.ts';
import { TreeFiles } from './tree-source.ts';
import type { Mac } from './types.ts';

// CI clones the repository with shared/ beside it, as on the development machine.
const DIR = fileURLToPath(new URL('../../../shared/real-configs', import.meta.url));
const present = existsSync(DIR);
if (!present) console.warn(`real-configs tests skipped: ${DIR} is absent (clone shared/ beside the repository)`);

const files = present
  ? readdirSync(DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => readdirSync(join(DIR, d.name)).map((f) => `${d.name}/${f}`))
      .sort()
  : [];

const isMaster = (f: string) => /(^|\/)[0-9a-fA-F]{12}\.cfg$/.test(f);
const isDirectory = (f: string) => /-directory~?\.xml$/.test(f);

describe.skipIf(!present)('genuine Polycom distribution files (real-configs/README.md)', () => {
  test('the folder holds the three releases', () => {
    expect(files.some((f) => f.startsWith('sip-1.2.0/'))).toBe(true);
    expect(files.some((f) => f.startsWith('sip-3.2.4/'))).toBe(true);
    expect(files.some((f) => f.startsWith('ucs-5.x/'))).toBe(true);
  });

  test.each(files.filter(isMaster))('facts §1.2/§1.3, master file %s parses and names CONFIG_FILES', (f) => {
    const m = parseMasterFile(readFileSync(join(DIR, f)), f);
    const em = applyMaster(m, { mac: '0004f2000001' as Mac, model: 'SPIP650', partNumber: '2345-12600-001' });
    expect(em.appFileCandidates).toEqual(['2345-12600-001.sip.ld', 'sip.ld']);
    expect(em.configFiles.length).toBeGreaterThan(1);
    expect(em.configFiles.every((c) => !c.includes('[PHONE_MAC_ADDRESS]'))).toBe(true);
  });

  test.each(files.filter(isDirectory))('facts §6.1, contact directory template %s parses', (f) => {
    const d = parseContactDirectory(readFileSync(join(DIR, f)), f);
    expect(d.contacts.length).toBeGreaterThan(0);
    expect(d.contacts.every((c) => c.ct && c.fn && c.ln)).toBe(true);
  });

  test.each(files.filter((f) => f.endsWith('.cfg') && !isMaster(f)))('facts §2.1, configuration file %s parses with all its parameters', (f) => {
    const bytes = readFileSync(join(DIR, f));
    const cfg = parseConfigFile(bytes, f);
    expect(cfg.kind).toBe('xml');
    if (cfg.kind !== 'xml') return;
    // Every `name="` in the text is one parameter (minus xmlns/xsi housekeeping).
    const text = bytes.toString('utf8');
    const attrCount = (text.match(/\s[A-Za-z_][\w.:-]*\s*=\s*"/g) ?? []).length - (text.match(/\s(xmlns|xsi):?[\w.-]*\s*=\s*"/g) ?? []).length;
    const declAttrs = (/<\?xml[^>]*\?>/.exec(text)?.[0].match(/\s\w+\s*=\s*"/g) ?? []).length;
    expect(cfg.params.length).toBe(attrCount - declAttrs);
    expect(cfg.params.every((p) => p.pos.line >= 1 && p.pos.column >= 1)).toBe(true);
  });

  test('the big nested files carry thousands of parameters (SIP 3.2.4 sip.cfg with its BOM, SIP 1.2.0 ipmid.cfg)', () => {
    const sip = parseConfigFile(readFileSync(join(DIR, 'sip-3.2.4/sip.cfg')), 'sip.cfg');
    expect(sip.kind === 'xml' && sip.params.length).toBeGreaterThan(2000);
    const site = parseConfigFile(readFileSync(join(DIR, 'ucs-5.x/site.cfg')), 'site.cfg');
    expect(site.kind === 'xml' && site.params.some((p) => p.name === 'prov.polling.period')).toBe(true);
    const reg = parseConfigFile(readFileSync(join(DIR, 'ucs-5.x/reg-basic.cfg')), 'reg-basic.cfg');
    expect(reg.kind === 'xml' && reg.params.find((p) => p.name === 'call.callsPerLineKey.VVX101')?.value).toBe('8');
  });

  test('white paper, Default Configuration Parameter Values: the SIP 3.2.4 distribution resolves for an IP 300 and an IP 601, model-suffixed gains applied (facts §2.1)', async () => {
    const tree = new TreeFiles(join(DIR, 'sip-3.2.4'));
    const r601 = await resolvePhone(tree, { mac: '0004f2000001' as Mac, model: 'SPIP601' });
    expect(r601.master?.file).toBe('000000000000.cfg');
    expect(r601.configFiles).toEqual([
      { name: '0004f2000001-user.cfg', found: false },
      { name: 'common.cfg', found: false },
      { name: 'phone1.cfg', found: true },
      { name: 'sip.cfg', found: true },
    ]);
    expect(r601.problems).toEqual([]);
    expect(r601.params.size).toBeGreaterThan(2000);
    const gain = r601.params.get('voice.gain.rx.analog.chassis')!;
    expect([gain.value, gain.source.file]).toEqual(['6', 'sip.cfg']);
    expect(gain.shadowed.map((s) => s.value)).toEqual(['0']);
    const r300 = await resolvePhone(tree, { mac: '0004f2000001' as Mac, model: 'SPIP300' });
    expect(r300.params.get('voice.gain.rx.analog.chassis')?.value).toBe('-6');
    const vvx = await resolvePhone(tree, { mac: '0004f2000001' as Mac, model: 'VVX1500' });
    expect(vvx.params.get('voice.gain.rx.analog.chassis')?.value).toBe('-3'); // VVX_1500 spelling
  });
});
