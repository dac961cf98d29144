// Issue 12 (ground floor): imports only go down. Parses every import form in src/ and fails on an
// arrow that goes the wrong way; shown failing on planted bad imports of each form.
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { importSpecifiers, sourceFiles, violations } from './layers.ts';

const root = resolve(import.meta.dirname, '../..');

describe('STYLE §1: imports only go down', () => {
  test('no file in src/ imports a layer above it (face → store, config → core, store → core/config/options, anything → cli)', () => {
    const bad = violations(root, sourceFiles(root)).map((v) => `${v.from} (${v.fromLayer}) → ${v.to} (${v.toLayer})`);
    expect(bad).toEqual([]);
  });

  test('every import form is seen: static, type-only, side-effect, export-from, dynamic, require; comments are not', () => {
    const src = [
      "import { a } from './a.ts';",
      "import type { B } from './b.ts';",
      "import './c.ts';",
      "export { d } from './d.ts';",
      "export type { E } from './e.ts';",
      "export * from './f.ts';",
      "const g = await import('./g.ts');",
      "const h = require('./h.ts');",
      "import {\n  i,\n  type I,\n} from './i.ts';",
      "// import { x } from './commented.ts';",
      "/* import { y } from './block.ts'; */",
    ].join('\n');
    expect(importSpecifiers(src).sort()).toEqual(['./a.ts', './b.ts', './c.ts', './d.ts', './e.ts', './f.ts', './g.ts', './h.ts', './i.ts']);
  });

  test.each([
    ['a transport importing the store', 'src/transports/planted.ts', "import type { Store } from '../store/store.ts';"],
    ['a face importing the store dynamically', 'src/cli/planted.ts', "const { openStore } = await import('../store/open.ts');"],
    ['config importing the core', 'src/config/planted.ts', "export { ProvError } from '../core/boot-service.ts';"],
    ['the store importing server options', 'src/store/planted.ts', "import type { ServerOptions } from '../options.ts';"],
    ['the store importing config', 'src/store/planted.ts', "import type { Contact } from '../config/types.ts';"],
    ['the core importing a face', 'src/core/planted.ts', "import { startHttpServer } from '../transports/http.ts';"],
    ['a face importing the CLI', 'src/phone/planted.ts', "import { main } from '../cli/main.ts';"],
    ['the ground floor importing anything', 'src/domain.ts', "import type { Store } from './store/store.ts';"],
  ])('a planted bad import is caught: %s', (_what, rel, source) => {
    expect(violations(root, [{ rel, source }])).toHaveLength(1);
  });

  test('imports that go down pass', () => {
    const ok = [
      { rel: 'src/transports/x.ts', source: "import type { BootService } from '../core/request.ts';\nimport { ProvError } from '../errors.ts';" },
      { rel: 'src/core/x.ts', source: "import type { Store } from '../store/store.ts';\nimport { parseMasterFile } from '../config/master-file.ts';" },
      { rel: 'src/cli/x.ts', source: "import { main } from './main.ts';\nimport { bootPhone } from '../phone/boot.ts';" },
    ];
    expect(violations(root, ok)).toEqual([]);
  });
});
