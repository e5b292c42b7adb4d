/**
 * The revisions of one file in git, renames followed: which commits touched it, when, and under
 * which path. Read-only; uncommitted changes are not part of a history.
 */
import { isAbsolute, posix, relative } from 'node:path';
import { mustGit } from '../git/run.js';

/** One commit that touched the file. */
export interface FileHistoryEntry {
  commit: string;
  /** Committer date (when the change entered the branch, not when it was written). */
  date: Date;
  /** The file's path at that commit, relative to the repository root (renames followed). */
  path: string;
}

/** Marks the start of a commit header in `git log -z` output; never in a hash or a date. */
const HEADER = '\u0001';

/**
 * Lists the commits that touched `file` (relative to `repoDir`, or absolute), oldest first, following
 * renames (`git log --follow`). A commit that deleted the file is left out: there is nothing to
 * read at it.
 * @throws GitError when `repoDir` is not in a git work tree or git fails.
 */
export async function fileLog(repoDir: string, file: string): Promise<FileHistoryEntry[]> {
  const [top = '', prefix = ''] = (
    await mustGit(['rev-parse', '--show-toplevel', '--show-prefix'], {
      cwd: repoDir,
      what: 'cannot find the repository root',
    })
  )
    .toString('utf8')
    .split('\n');
  const current = isAbsolute(file)
    ? relative(top, file).split('\\').join('/')
    : posix.normalize(posix.join(prefix, file));
  const out = await mustGit(['log', '-z', '--follow', `--format=${HEADER}%H %cI`, '--name-status', '--', file], {
    cwd: repoDir,
    what: 'cannot read the history',
  });
  return parseLog(out.toString('utf8'), current);
}

/**
 * Parses `git log -z --format=<HEADER>%H %cI --name-status` output (newest first) into entries,
 * oldest first. `current` is the file's path at the newest commit, used for a commit that lists no
 * status line (a merge that resolved the file).
 */
export function parseLog(text: string, current: string): FileHistoryEntry[] {
  const entries: FileHistoryEntry[] = [];
  const tokens = text.split('\u0000').map((t) => t.replace(/^\n+/, ''));
  let path = current;
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i++]!;
    if (!token.startsWith(HEADER)) continue;
    const [commit = '', iso = ''] = token.slice(HEADER.length).split(' ');
    let deleted = false;
    const status = tokens[i];
    if (status !== undefined && /^[ACDMRTU][0-9]*$/.test(status)) {
      i++;
      if (status.startsWith('R') || status.startsWith('C')) {
        const from = tokens[i++] ?? path;
        path = tokens[i++] ?? path;
        entries.push({ commit, date: new Date(iso), path });
        path = from;
        continue;
      }
      path = tokens[i++] ?? path;
      deleted = status === 'D';
    }
    if (!deleted) entries.push({ commit, date: new Date(iso), path });
  }
  return entries.reverse();
}
