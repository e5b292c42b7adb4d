/**
 * Preconditions of a test file that no test inside it can fix: when one is not met, the file
 * stops before any test runs with one line saying what to do (not a stack trace).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Writes `line` to stderr and ends this test file's process with status 1. */
export function refuseToRun(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

/**
 * Why `dist/` (what the CLI runs) does not match `src/`, or undefined when it does: a
 * `src/**` `.ts` file with no `.js` counterpart in `dist/`, or one changed after it was built.
 * CLI tests would otherwise test the last build, not the code being edited.
 */
export function staleBuild(root: string): string | undefined {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? walk(join(dir, e.name))
        : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')
          ? [join(dir, e.name)]
          : [],
    );
  for (const src of walk(join(root, 'src')).sort()) {
    const rel = relative(root, src);
    const built = join(root, 'dist', relative(join(root, 'src'), src).replace(/\.ts$/, '.js'));
    const builtAt = statSync(built, { throwIfNoEntry: false })?.mtimeMs;
    if (builtAt === undefined) return `${rel} is not built (no ${relative(root, built)})`;
    if (statSync(src).mtimeMs > builtAt) return `${rel} changed after the last build`;
  }
  return undefined;
}
