/**
 * `npm run docs:errors`: writes the exit-code table of docs/commands.md, between
 * `<!-- errors:begin -->` and `<!-- errors:end -->`, from the one table in src/errors.ts.
 * test/errors.test.ts imports it to check that the docs are current.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ERRORS, EXIT_SUCCESS, exitCodeOf, sopsExitName, type ErrorCode } from '../src/errors.js';

/** The page that holds the table. */
export const COMMANDS_DOC = fileURLToPath(new URL('../docs/commands.md', import.meta.url));
export const BEGIN = '<!-- errors:begin -->';
export const END = '<!-- errors:end -->';

/** One table row; an empty cell is a single space, as in the rest of the docs. */
const row = (cells: readonly (string | number)[]): string =>
  `|${cells.map((c) => (c === '' ? ' ' : ` ${String(c).replaceAll('|', '\\|')} `)).join('|')}|`;

/** The Markdown table: one row per code, by exit status (table order within one status). */
export function errorTable(): string {
  const codes = (Object.keys(ERRORS) as ErrorCode[])
    .map((code, i) => ({ code, i, exit: exitCodeOf(code) }))
    .sort((a, b) => a.exit - b.exit || a.i - b.i);
  const rows = [
    row(['exit', 'sops name', 'code', 'meaning']),
    '|---|---|---|---|',
    row([EXIT_SUCCESS, '', '', 'success']),
    ...codes.map(({ code, exit }) => row([exit, sopsExitName(code) ?? '', `\`${code}\``, ERRORS[code].summary])),
    row(['128+n', '', '', 'killed by signal n: SIGINT 130, SIGPIPE 141 (the reader of stdout left), SIGTERM 143']),
  ];
  return rows.join('\n');
}

/**
 * `doc` with the text between the markers replaced by {@link errorTable}.
 * @throws Error when the markers are missing or out of order.
 */
export function withErrorTable(doc: string): string {
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin === -1 || end < begin) throw new Error(`${COMMANDS_DOC}: no ${BEGIN} … ${END} markers`);
  return `${doc.slice(0, begin + BEGIN.length)}\n${errorTable()}\n${doc.slice(end)}`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const before = readFileSync(COMMANDS_DOC, 'utf8');
  const after = withErrorTable(before);
  if (after !== before) writeFileSync(COMMANDS_DOC, after);
  process.stdout.write(`${COMMANDS_DOC}: exit-code table ${after === before ? 'already current' : 'updated'}\n`);
}
