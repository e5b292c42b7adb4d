/**
 * The folders of src/ import one way (issue 11): scripts/check-layers.mjs run in-process on the
 * real tree, and on small trees built for each rule so that a check that stopped working fails.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkLayers, folderEdges, type Layers } from '../scripts/check-layers.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const layers = JSON.parse(readFileSync(join(root, 'scripts', 'layers.json'), 'utf8')) as Layers;

const temps: string[] = [];
after(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A src/ tree of the given files (path -> text) in a temp directory. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealant-layers-'));
  temps.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const small: Layers = {
  tiers: [['commands'], ['ops'], ['config', 'git'], ['fsx'], ['format'], ['errors']],
  onlyFrom: { fsx: ['ops'] },
  mayImport: { commands: ['ops', 'errors'] },
  typeImportsAllowed: ['commands'],
};

describe('layers of src/', () => {
  test('the real tree has no cycle and no edge against scripts/layers.json', () => {
    const { violations } = checkLayers(join(root, 'src'), layers);
    assert.deepEqual(violations, []);
  });

  test('every folder of src/ is in a tier', () => {
    const known = new Set(layers.tiers.flat());
    const folders = new Set(folderEdges(join(root, 'src')).flatMap((e) => [e.from, e.to]));
    assert.deepEqual(
      [...folders].filter((f) => !known.has(f)),
      [],
    );
  });

  test('a downward tree passes', () => {
    const dir = tree({
      'commands/a.ts': "import { x } from '../ops/a.js';\nimport type { C } from '../config/c.js';\n",
      'ops/a.ts': "import { c } from '../config/c.js';\nimport { w } from '../fsx/w.js';\n",
      'config/c.ts': "import { g } from '../git/g.js';\nimport { E } from '../errors.js';\n",
      'git/g.ts': "import { f } from '../format/f.js';\n",
      'fsx/w.ts': "import { f } from '../format/f.js';\n",
      'format/f.ts': "export const f = 1; // import { x } from '../ops/a.js'\n",
      'errors.ts': 'export class E {}\n',
    });
    assert.deepEqual(checkLayers(dir, small).violations, []);
  });

  test('an upward import is reported with the importing file', () => {
    const dir = tree({ 'ops/a.ts': '', 'config/c.ts': "import { x } from '../ops/a.js';\n" });
    assert.deepEqual(checkLayers(dir, small).violations, ['config -> ops: imports upward (config/c.ts)']);
  });

  test('an upward import type counts outside commands', () => {
    const dir = tree({ 'ops/a.ts': '', 'config/c.ts': "import type { X } from '../ops/a.js';\n" });
    assert.deepEqual(checkLayers(dir, small).violations, ['config -> ops: imports upward (config/c.ts)']);
  });

  test('a cycle within one tier is reported', () => {
    const dir = tree({
      'config/c.ts': "import { g } from '../git/g.js';\n",
      'git/g.ts': "export { c } from '../config/c.js';\n",
    });
    assert.deepEqual(checkLayers(dir, small).violations, ['cycle between folders: config, git']);
  });

  test('fsx imported from outside ops, and a command importing past ops, are reported', () => {
    const dir = tree({
      'commands/a.ts': "import { c } from '../config/c.js';\n",
      'config/c.ts': "import { w } from '../fsx/w.js';\n",
      'fsx/w.ts': '',
    });
    assert.deepEqual(checkLayers(dir, small).violations, [
      'commands -> config: commands may import only ops, errors (commands/a.ts)',
      'config -> fsx: fsx may be imported only from ops (config/c.ts)',
    ]);
  });

  test('a pending edge is reported apart, and a stale pending entry fails', () => {
    const dir = tree({ 'ops/a.ts': '', 'config/c.ts': "import { x } from '../ops/a.js';\n" });
    assert.deepEqual(checkLayers(dir, { ...small, pending: ['config -> ops'] }), {
      violations: [],
      pending: ['config -> ops'],
    });
    assert.deepEqual(checkLayers(dir, { ...small, pending: ['config -> ops', 'git -> ops'] }).violations, [
      'git -> ops: listed in pending but no longer occurs; remove it from layers.json',
    ]);
  });
});
