import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ProvError } from '../../errors.ts';
import { TreeFiles } from '../tree-source.ts';
import { compareFindings, lintTree, summarize } from './index.ts';
import { cleanTree, lintFiles } from './lint-test-util.ts';
import { prng } from '../../../test/support/prng.ts';

const REAL = fileURLToPath(new URL('../../../../shared/real-configs/', import.meta.url));

describe('lintTree', () => {
  test('findings are ordered by file, line, column', async () => {
    const f = await lintFiles(
      cleanTree({
        'b.cfg': '<x\n a.b.c="1"\n reg.1.auth.pasword="2"/>',
        'a.cfg': '<x zz.unknown="1"/>',
        '000000000000.cfg': '<APPLICATION APP_FILE_PATH="" CONFIG_FILES="site.cfg, missing.cfg"/>',
      }),
    );
    const keys = f.map((x) => [x.file, x.line, x.column] as const);
    const sorted = [...f].sort(compareFindings).map((x) => [x.file, x.line, x.column] as const);
    expect(keys).toEqual(sorted);
    expect(f.map((x) => x.file)).toEqual(['000000000000.cfg', 'a.cfg', 'b.cfg', 'b.cfg']);
    expect(summarize(f)).toEqual({ errors: 1, warnings: 3, infos: 0 });
    for (const x of f) expect(x).toBeInstanceOf(ProvError);
  });

  describe.skipIf(!existsSync(REAL))('genuine Polycom distributions (real-configs/README.md)', () => {
    test.each(['sip-1.2.0', 'sip-3.2.4', 'ucs-5.x'])('%s: every file parses and every parameter is known and valid', async (gen) => {
      const f = await lintTree(new TreeFiles(REAL + gen));
      const codes = new Set(f.map((x) => x.code));
      for (const bad of ['PP_CFG_XML_MALFORMED', 'PP_PARAM_UNKNOWN', 'PP_PARAM_BAD_VALUE', 'PP_DIR_CT_MISSING', 'PP_DIR_CT_DUPLICATE']) expect(codes.has(bad as never), `${gen}: ${bad}`).toBe(false);
      // Polycom ships its web server on (httpd.cfg.enabled="1"): every generation is flagged.
      expect(codes.has('PP_SEC_WEB_SERVER_ON')).toBe(true);
    });
  });
});

describe('lintTree on garbage', () => {
  test('random bytes and truncated XML never throw; each bad file gets a finding (seed 42, 200 rounds)', async () => {
    const rnd = prng(42).int;
    const good = '<?xml version="1.0"?>\n<polycomConfig><reg reg.1.address="1001" reg.1.auth.password="x"/></polycomConfig>\n';
    for (let round = 0; round < 200; round++) {
      const cut = good.slice(0, rnd(good.length));
      const noise = Buffer.alloc(rnd(64));
      for (let i = 0; i < noise.length; i++) noise[i] = rnd(256);
      const files = cleanTree({
        'phones/0004f2000001.cfg': round % 2 ? cut : Buffer.concat([Buffer.from(cut), noise]),
        'contacts/0004f2000001-directory.xml': Buffer.concat([Buffer.from('<directory><item_list><item><ct>'), noise]),
      });
      const f = await lintFiles(files);
      expect(f.some((x) => x.file === 'contacts/0004f2000001-directory.xml')).toBe(true);
    }
  });
});
