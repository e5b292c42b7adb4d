/**
 * Listing the files that exist under a project directory (for environments' `files:` globs).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_PREFIX } from './atomic.js';

/** Directories never walked: not where secrets live, and huge. */
const SKIP_DIRS = new Set(['.git', 'node_modules']);

/** Every regular file under `dir` (symlinks are not followed), as paths relative to `root`. */
export async function walkFiles(root: string, dir = ''): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(root, dir), { withFileTypes: true });
  } catch {
    return []; // a glob's base directory that does not exist owns no files
  }
  const out: string[] = [];
  for (const e of entries) {
    const rel = dir === '' ? e.name : `${dir}/${e.name}`;
    // A staging directory holds a copy of a file being written (see atomic.ts), not a file of its own.
    if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith(TEMP_PREFIX))
      out.push(...(await walkFiles(root, rel)));
    else if (e.isFile() && !e.name.startsWith(TEMP_PREFIX)) out.push(rel);
  }
  return out;
}
