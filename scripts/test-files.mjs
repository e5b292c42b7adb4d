#!/usr/bin/env node
/**
 * Splits test/*.test.ts into the two speeds of the suite:
 *
 * - `unit`: library code tested in-process (`npm run test:unit`, well under a minute);
 * - `e2e`: files that run the CLI — through test/helpers/cli.ts (`runCli`, `BIN`), or through
 *   the git hook, git drivers or kustomize plugin a test installs, which call `bin/run.js`.
 *
 * `node scripts/test-files.mjs unit|e2e|all` prints the files, one per line (paths relative to
 * the repository root). test/test-files.test.ts checks that every e2e file goes through
 * test/helpers/cli.ts, whose stale-build check then covers it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What in a test file's source means it starts the CLI. */
const RUNS_CLI = [
  /\bhelpers\/cli\.js['"]/, // runCli / BIN
  /\bbin\/(run|dev)\.js\b/,
  // Installed integrations call this installation's bin/run.js when git or kustomize runs them.
  /\binstall(PreCommitHook|GitIntegration|KustomizePlugin)\b/,
];

/** `'e2e'` when `source` (one file's text, its imports aside) runs the CLI, else `'unit'`. */
export function classify(source) {
  return RUNS_CLI.some((re) => re.test(source)) ? 'e2e' : 'unit';
}

/** `file` and the test helpers it imports (relative `.js` imports of `.ts` files), transitively. */
export function localModules(file, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  for (const [, spec] of source.matchAll(/\bfrom\s+['"](\.{1,2}\/[^'"]+)\.js['"]/g)) {
    const dep = resolve(dirname(file), `${spec}.ts`);
    if (dep.includes(`${join('test', 'helpers')}`)) localModules(dep, seen);
  }
  return seen;
}

/** `'e2e'` when the test file at `file`, or a test helper it imports, runs the CLI. */
export function classifyFile(file) {
  return [...localModules(file)].some((f) => classify(readFileSync(f, 'utf8')) === 'e2e') ? 'e2e' : 'unit';
}

/** The test files of `speed` (`unit`, `e2e` or `all`), sorted, relative to the repository root. */
export function testFiles(speed, root = ROOT) {
  return readdirSync(join(root, 'test'))
    .filter((n) => n.endsWith('.test.ts'))
    .sort()
    .map((n) => `test/${n}`)
    .filter((f) => speed === 'all' || classifyFile(join(root, f)) === speed);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const speed = process.argv[2];
  if (speed !== 'unit' && speed !== 'e2e' && speed !== 'all') {
    process.stderr.write('usage: node scripts/test-files.mjs unit|e2e|all\n');
    process.exitCode = 2;
  } else {
    process.stdout.write(testFiles(speed).join('\n') + '\n');
  }
}
