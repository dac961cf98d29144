// The layers of src/ and the one rule between them: imports only go down (STYLE §1, issue 12).
//   ground floor  src/errors.ts, src/domain.ts, src/util/   imports nothing of the project
//   support       src/options.ts, src/log.ts                 the ground floor only
//   config        src/config/                                the ground floor only
//   store         src/store/                                 the ground floor only
//   fleet         src/fleet/                                 config, store, support, ground
//   core          src/core/                                  fleet, config, store, support, ground
//   faces         transports, sip, dhcp, phone, api, cli, server.ts …: anything but the store
//                 and the CLI (only the CLI itself imports the CLI)
// The core opens the store (src/core/open-core.ts) and hands it to the services: that is the one
// composition point, so no face needs an exception.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export type Layer = 'ground' | 'support' | 'config' | 'store' | 'fleet' | 'core' | 'cli' | 'face';

export function layerOf(rel: string): Layer {
  const p = rel.split(sep).join('/');
  if (p === 'src/errors.ts' || p === 'src/domain.ts' || p.startsWith('src/util/')) return 'ground';
  if (p === 'src/options.ts' || p === 'src/log.ts') return 'support';
  if (p.startsWith('src/config/')) return 'config';
  if (p.startsWith('src/store/')) return 'store';
  if (p.startsWith('src/fleet/')) return 'fleet';
  if (p.startsWith('src/core/')) return 'core';
  if (p.startsWith('src/cli/')) return 'cli';
  return 'face';
}

const MAY_IMPORT: Record<Layer, ReadonlySet<Layer>> = {
  ground: new Set(['ground']),
  support: new Set(['ground', 'support']),
  config: new Set(['ground', 'config']),
  store: new Set(['ground', 'store']),
  fleet: new Set(['ground', 'support', 'config', 'store', 'fleet']),
  core: new Set(['ground', 'support', 'config', 'store', 'fleet', 'core']),
  face: new Set(['ground', 'support', 'config', 'fleet', 'core', 'face']),
  cli: new Set(['ground', 'support', 'config', 'fleet', 'core', 'face', 'cli']),
};

/**
 * Every module specifier of a TypeScript source: static imports (with or without bindings,
 * `import type` included), `export … from`, dynamic `import('…')` and `require('…')`.
 * Comments are blanked first so a commented-out import does not count.
 */
export function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/[^\n]*/g, '$1');
  const out: string[] = [];
  const patterns = [
    /\bimport\s+(?:type\s+)?[\w*{}\s,$]*?\s*from\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s*from\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) out.push(m[1]!);
  return out;
}

export interface Violation {
  from: string;
  to: string;
  fromLayer: Layer;
  toLayer: Layer;
}

/** The wrong-way arrows among `files` (paths relative to `root`, each with its source text). */
export function violations(root: string, files: Array<{ rel: string; source: string }>): Violation[] {
  const out: Violation[] = [];
  for (const f of files) {
    const fromLayer = layerOf(f.rel);
    for (const spec of importSpecifiers(f.source)) {
      if (!spec.startsWith('.')) continue;
      const target = relative(root, resolve(root, dirname(f.rel), spec));
      if (!target.startsWith('src')) continue;
      const toLayer = layerOf(target);
      if (!MAY_IMPORT[fromLayer].has(toLayer)) out.push({ from: f.rel, to: target, fromLayer, toLayer });
    }
  }
  return out;
}

/** Every non-test TypeScript file under src/. */
export function sourceFiles(root: string): Array<{ rel: string; source: string }> {
  const out: Array<{ rel: string; source: string }> = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push({ rel: relative(root, full), source: readFileSync(full, 'utf8') });
    }
  };
  walk(join(root, 'src'));
  return out;
}
