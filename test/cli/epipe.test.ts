// Issue 13 item 18: `lint` and `explain` piped into `head` end quietly — exit 0, nothing on stderr —
// instead of an EPIPE stack trace. A real shell pipe; the output is far larger than a pipe's buffer.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { makeTree, tempDir } from '../support/tree.ts';

const BIN = join(import.meta.dirname, '../../bin/polyprov');

// White paper, Master Configuration File: one master, one configuration file; 3,000 unknown
// parameters give lint and explain hundreds of kilobytes to print.
const root = makeTree({
  '000000000000.cfg': '<?xml version="1.0" standalone="yes"?>\n<APPLICATION APP_FILE_PATH="" CONFIG_FILES="site.cfg"/>\n',
  'site.cfg': `<?xml version="1.0" standalone="yes"?>\n<site>\n${Array.from({ length: 3000 }, (_, i) => `<x polyprov.unknown.${i}="1"/>\n`).join('')}</site>\n`,
});

/** `{ polyprov ARGS 2>err; echo $? >code; } | head -1` in sh: head's line, and the writer's own status and stderr. */
function pipeToHead(args: string[]): Promise<{ line: string; code: number; err: string }> {
  const dir = tempDir('polyprov-epipe-');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = `{ ${[process.execPath, BIN, ...args].map(q).join(' ')} 2>${q(join(dir, 'err'))}; echo $? >${q(join(dir, 'code'))}; } | head -1`;
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', script], { timeout: 25_000, env: { ...process.env, POLYPROV_CONFIG: '' } }, (error, stdout) => {
      if (error) return reject(error);
      resolve({ line: stdout, code: Number(readFileSync(join(dir, 'code'), 'utf8')), err: readFileSync(join(dir, 'err'), 'utf8') });
    });
  });
}

describe('output piped into head (issue 13 item 18)', () => {
  test('lint ROOT | head -1: one finding, then polyprov exits 0 with nothing on stderr', async () => {
    const r = await pipeToHead(['lint', root]);
    expect(r.line).toMatch(/^[\w.]+:\d+:\d+: \w+ PP_\w+ /);
    expect(r.line.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  test('explain ROOT --mac MAC | head -1: the first line, then exit 0 with nothing on stderr', async () => {
    const r = await pipeToHead(['explain', root, '--mac', '0004f2000001']);
    expect(r.line.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });
});
