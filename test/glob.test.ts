/**
 * `.sealant.yaml` globs keep minimatch's meaning (`dot: true`) but match in linear time: a glob
 * anyone can write in a pull request cannot hang validate/guard/plan/render. minimatch itself is
 * the oracle for the meaning; the pathological glob runs in a child with a kill timer, so a hang
 * fails the test instead of blocking the runner.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { Minimatch } from 'minimatch';
import { environmentFor, parseSealantConfig } from '../src/config/index.js';
import { ConfigError, UsageError } from '../src/errors.js';
import { compileGlob, globListMatcher } from '../src/util/glob.js';

const AGE = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

describe('glob meaning', () => {
  const cases: [string, string, boolean][] = [
    ['*.yaml', 'app.yaml', true],
    ['*.yaml', '.hidden.yaml', true], // dot files are matched
    ['*.yaml', 'dir/app.yaml', false], // `*` stays within one directory
    ['environments/**', 'environments/dev/app.yaml', true],
    ['environments/**', 'environments', false],
    ['**/*.enc.yaml', 'a/.b/c.enc.yaml', true],
    ['**/*.enc.yaml', 'c.enc.yaml', true], // `**` matches zero directories
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['a/*/b', 'a/b', false],
    ['?.env', 'x.env', true],
    ['?.env', 'xy.env', false],
    ['[abc].env', 'b.env', true],
    ['[!a].env', 'a.env', false],
    ['[!a]x', 'a/x', false], // a class never matches `/`
    ['[[:digit:]]x', '7x', true],
    ['{dev,prod}/*.json', 'prod/s.json', true],
    ['{dev,prod}/*.json', 'qa/s.json', false],
    ['v{1..3}.yaml', 'v2.yaml', true],
    ['v{1..3}.yaml', 'v4.yaml', false],
    ['+(a|b).yaml', 'abba.yaml', true],
    ['@(a|b).yaml', 'ab.yaml', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['#notes', '#notes', true], // no comments
    ['db.*', 'db.password', true], // a key-path glob
  ];
  for (const [glob, path, want] of cases)
    test(`${glob} ${want ? 'matches' : 'does not match'} ${path}`, () =>
      assert.equal(compileGlob(glob).test(path), want));

  test('same answer as minimatch on generated globs and paths (dots, traversal, slashes, classes, braces)', () => {
    const options = { dot: true, nocomment: true, nonegate: true } as const;
    let seed = 7;
    const pick = <T>(xs: readonly T[]): T => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return xs[seed % xs.length]!;
    };
    const globParts = ['a', 'b', '*', '?', '/', '**/', '/**', '.', '[ab]', '[!a]', '{a,b}', '+(a|b)', '@(a)', '\\*'];
    const pathParts = ['a', 'b', '/', '.', '..', 'x', 'ab', '.a', '*'];
    let compared = 0;
    for (let k = 0; k < 1500; k++) {
      const glob = Array.from({ length: 1 + (k % 6) }, () => pick(globParts)).join('');
      const mm = new Minimatch(glob, options);
      const ours = compileGlob(glob);
      for (let q = 0; q < 30; q++) {
        const path = Array.from({ length: q % 7 }, () => pick(pathParts)).join('');
        assert.equal(ours.test(path), mm.match(path), `${JSON.stringify(glob)} on ${JSON.stringify(path)}`);
        compared++;
      }
    }
    assert.equal(compared, 45_000);
  });

  test('a list: some glob selects, no `!` glob excludes; only exclusions select nothing', () => {
    const m = globListMatcher(['envs/**', '!envs/**/*.md']);
    assert.equal(m('envs/dev/a.yaml'), true);
    assert.equal(m('envs/dev/README.md'), false);
    assert.equal(globListMatcher(['!x'])('y'), false);
  });

  test('a negated extglob has no linear-time form: refused, and the config error points at it', () => {
    assert.throws(() => compileGlob('!(a).yaml'), UsageError);
    const text = `environments:\n  dev:\n    files: ["envs/**", "envs/!(x).yaml"]\n    age: [${AGE}]\n`;
    assert.throws(
      () => parseSealantConfig(text, '/repo/.sealant.yaml', '.sealant.yaml'),
      (e) => e instanceof ConfigError && e.line === 3 && /files\[1\]: is not a supported glob/.test(e.toOneLine()),
    );
  });
});

describe('a catastrophic glob cannot hang a reader', () => {
  // minimatch's backtracking regex takes ~n^12 steps on this glob and a long name; RE2 one pass.
  const EVIL = '*a*a*a*a*a*a*a*a*a*a*a*a*c';
  const LONG = `dir/${'a'.repeat(3000)}`;

  test('compileGlob and an environment owning files by it answer (child killed after 60 s otherwise)', () => {
    const code = `
      const { compileGlob } = await import('./src/util/glob.ts');
      const { environmentFor, parseSealantConfig } = await import('./src/config/index.ts');
      const config = parseSealantConfig(${JSON.stringify(
        `environments:\n  dev:\n    files: ["**/${EVIL}"]\n    age: [${AGE}]\n`,
      )}, '/repo/.sealant.yaml', '.sealant.yaml');
      const env = environmentFor(config, '/repo/' + ${JSON.stringify(LONG)}, '/repo');
      process.stdout.write(JSON.stringify([compileGlob(${JSON.stringify(EVIL)}).test(${JSON.stringify(LONG.slice(4))}), env?.name ?? null]));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.deepEqual(JSON.parse(out), [false, null]);
  });

  test('the same glob still matches what it should', () => {
    assert.equal(compileGlob(EVIL).test(`${'a'.repeat(30)}c`), true);
    const config = parseSealantConfig(
      `environments:\n  dev:\n    files: ["**/${EVIL}"]\n    age: [${AGE}]\n`,
      '/repo/.sealant.yaml',
      '.sealant.yaml',
    );
    assert.equal(environmentFor(config, `/repo/x/${'a'.repeat(12)}c`, '/repo')?.name, 'dev');
  });
});
