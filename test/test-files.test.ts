/**
 * The two speeds of the suite (scripts/test-files.mjs): `npm run test:unit` must not start the
 * CLI, and every file that does goes through test/helpers/cli.ts, whose stale-build check stops
 * it when dist/ is older than src/. Also the one-line refusals of test/helpers/setup.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { classify, classifyFile, localModules, testFiles } from '../scripts/test-files.mjs';
import { staleBuild } from './helpers/setup.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI_HELPER = join(ROOT, 'test', 'helpers', 'cli.ts');
// Source text for the classifier, assembled so that this file itself does not read as e2e.
const importOf = (names: string, spec: string): string => `import { ${names} } from ${"'"}${spec}.js';`;
const install = (what: string): string => `await install${what}(repo, {});`;

describe('classification check', () => {
  test('a file is e2e when it imports the CLI helper, names the entry point or installs an integration', () => {
    assert.equal(classify(importOf('runCli', './helpers/' + 'cli')), 'e2e');
    assert.equal(classify(`spawn(process.execPath, [join(ROOT, '${'bin/' + 'run.js'}')])`), 'e2e');
    for (const what of ['PreCommitHook', 'GitIntegration', 'KustomizePlugin'])
      assert.equal(classify(install(what)), 'e2e', what);
    assert.equal(classify(importOf('encryptText', '../src/ops/encrypt')), 'unit');
  });

  test('a helper that runs the CLI makes every test file importing it e2e', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealant-test-files-'));
    try {
      mkdirSync(join(dir, 'test', 'helpers'), { recursive: true });
      writeFileSync(join(dir, 'test', 'helpers', 'wrap.ts'), importOf('runCli', './cli'));
      writeFileSync(join(dir, 'test', 'helpers', 'cli.ts'), `const BIN = '${'bin/' + 'run.js'}';\n`);
      writeFileSync(join(dir, 'test', 'a.test.ts'), importOf('runCli', './helpers/' + 'wrap'));
      writeFileSync(join(dir, 'test', 'b.test.ts'), importOf('x', '../src/x'));
      assert.deepEqual(testFiles('e2e', dir), ['test/a.test.ts']);
      assert.deepEqual(testFiles('unit', dir), ['test/b.test.ts']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('unit and e2e split every test file, and each speed has files', () => {
    const unit = testFiles('unit');
    const e2e = testFiles('e2e');
    assert.ok(unit.length > 0 && e2e.length > 0);
    assert.deepEqual([...unit, ...e2e].sort(), testFiles('all'));
    assert.ok(unit.includes('test/test-files.test.ts'), 'this file is a unit file');
  });

  test('every e2e file goes through test/helpers/cli.ts, so the stale-build check covers it', () => {
    const outside = testFiles('e2e').filter((f) => !localModules(join(ROOT, f)).has(CLI_HELPER));
    assert.deepEqual(outside, []);
  });

  test('no unit file reaches the CLI through a helper', () => {
    const reaching = testFiles('unit').filter((f) => classifyFile(join(ROOT, f)) !== 'unit');
    assert.deepEqual(reaching, []);
    for (const f of testFiles('unit')) assert.ok(!localModules(join(ROOT, f)).has(CLI_HELPER), f);
  });
});

describe('stale-build check', () => {
  function tree(): string {
    const dir = mkdtempSync(join(tmpdir(), 'sealant-stale-'));
    mkdirSync(join(dir, 'src', 'ops'), { recursive: true });
    mkdirSync(join(dir, 'dist', 'ops'), { recursive: true });
    for (const [src, built] of [
      ['src/a.ts', 'dist/a.js'],
      ['src/ops/b.ts', 'dist/ops/b.js'],
    ] as const) {
      writeFileSync(join(dir, src), '');
      writeFileSync(join(dir, built), '');
      utimesSync(join(dir, src), 1_000, 1_000);
      utimesSync(join(dir, built), 2_000, 2_000);
    }
    writeFileSync(join(dir, 'src', 'types.d.ts'), ''); // declarations are not built
    return dir;
  }

  test('a build newer than every source is fresh', () => {
    const dir = tree();
    try {
      assert.equal(staleBuild(dir), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a source changed after its build, or never built, is named', () => {
    const dir = tree();
    try {
      utimesSync(join(dir, 'src', 'ops', 'b.ts'), 3_000, 3_000);
      assert.equal(staleBuild(dir), 'src/ops/b.ts changed after the last build');
      writeFileSync(join(dir, 'src', 'new.ts'), '');
      assert.equal(staleBuild(dir), 'src/new.ts is not built (no dist/new.js)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('a repository without ../shared stops a suite that needs it with one line', () => {
  // The helpers, copied into a repository that has no shared/ beside it or inside it.
  const dir = mkdtempSync(join(tmpdir(), 'sealant-noshared-'));
  try {
    const helpers = join(dir, 'repo', 'test', 'helpers');
    mkdirSync(helpers, { recursive: true });
    for (const f of ['shared.ts', 'setup.ts']) copyFileSync(join(ROOT, 'test', 'helpers', f), join(helpers, f));
    writeFileSync(
      join(dir, 'repo', 'test', 'needs-shared.test.ts'),
      `${importOf('sharedPath', './helpers/' + 'shared')}\nsharedPath('interop', 'sops');\nconsole.log('ran');\n`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, 'repo', 'test', 'needs-shared.test.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `../shared not found: clone the shared repository next to this one, as ${join(dir, 'shared')} (see README, "Developing")\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
