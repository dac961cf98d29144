// `polyprov serve` refuses bad server options before it starts (issue 12 item 6): exit status 2
// (usage) and the PP_OPT_* code on stderr, whether the options came from polyprov.json or a flag.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { polyprov } from './run-cli.ts';
import { standardTree, tempDir } from '../support/tree.ts';

const root = standardTree();

function optionsFile(text: string): string {
  const p = join(tempDir('polyprov-opts-'), 'bad.json');
  writeFileSync(p, text);
  return p;
}

describe('README, Server options file: serve refuses bad options with exit 2 and the code', () => {
  test('PP_OPT_UNKNOWN from polyprov.json names the nearest key and the line', async () => {
    const bad = optionsFile('{\n  "http": "127.0.0.1:0",\n  "polcy": "open"\n}\n');
    const r = await polyprov(['serve', '--root', root, '--data', tempDir(), '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:3:3: PP_OPT_UNKNOWN`);
    expect(r.stderr).toContain('"policy"');
  });

  test('PP_OPT_INVALID from polyprov.json names the value, the line and the range', async () => {
    const bad = optionsFile('{\n  "http": "127.0.0.1:0",\n  "tftpWindowsizeMax": 0\n}\n');
    const r = await polyprov(['serve', '--root', root, '--data', tempDir(), '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:3:3: PP_OPT_INVALID`);
    expect(r.stderr).toContain('1–65535');
  });

  test('PP_OPT_UNKNOWN and PP_OPT_INVALID from flags: an unknown flag names the nearest, a bad value names the flag', async () => {
    const unknown = await polyprov(['serve', '--root', root, '--data', tempDir(), '--htp', '127.0.0.1:0']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('PP_OPT_UNKNOWN');
    expect(unknown.stderr).toContain('--http');
    const invalid = await polyprov(['serve', '--root', root, '--data', tempDir(), '--http', '127.0.0.1:0', '--policy', 'closed']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/PP_OPT_INVALID command line \(--policy\): policy "closed" is not one of open, accounts/);
    const noCert = await polyprov(['serve', '--root', root, '--data', tempDir(), '--https', '127.0.0.1:0']);
    expect(noCert.code).toBe(2);
    expect(noCert.stderr).toMatch(/PP_OPT_INVALID command line \(--https\): https .* needs cert and key/);
  });
});
