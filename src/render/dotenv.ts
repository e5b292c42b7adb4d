/**
 * Environment variables from a decrypted tree: the names (`db.password` → `DB_PASSWORD`), the
 * `.env` file format, and docker's `--env-file` format. Pure: no fs, no env, no clock.
 *
 * Why two file formats: a `.env` file is read by dotenv-style parsers, which strip quotes, join
 * quoted lines and (dotenvx) expand `$VAR`; `docker run --env-file` reads each line
 * literally — `KEY='x'` gives the value `'x'` with its quotes, and a value cannot span lines.
 * No one text is read the same by both, so each reader gets its own writer.
 */
import { formatPath } from '../errors.js';
import type { MapNode, TreePath } from '../format/tree.js';
import { DEFAULT_DOTENV_NAMING, type DotenvNaming } from './settings.js';
import { flattenTree, hasLoneSurrogate, RenderError } from './values.js';

/** One environment variable: name and value. */
export type EnvVar = [name: string, value: string];

const FORMAT_HINT = 'render with --format json (or yaml) instead, or change the value';

/** The variable name of one key path under `naming`, or '' when nothing of it is left. */
function envName(path: TreePath, naming: DotenvNaming): string {
  let name = naming.prefix + path.map(String).join(naming.separator);
  if (naming.case === 'upper') name = name.toUpperCase();
  else if (naming.case === 'lower') name = name.toLowerCase();
  // The `u` flag makes one `_` per code point, not one per UTF-16 unit of an emoji.
  name = name.replace(/[^A-Za-z0-9_]/gu, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** Refuses what no environment can hold, before any format-specific rule. */
function checkEnvValue(name: string, path: TreePath, value: string): void {
  // The kernel ends an environment string at NUL; Node refuses it with a message that quotes the value.
  if (value.includes('\0')) {
    throw new RenderError(
      'RENDER_UNREPRESENTABLE',
      `the value of ${name} contains a NUL character, which no environment variable can hold`,
      { path, hint: FORMAT_HINT },
    );
  }
  if (hasLoneSurrogate(value)) {
    throw new RenderError(
      'RENDER_UNREPRESENTABLE',
      `the value of ${name} is not valid Unicode (unpaired surrogate) and has no UTF-8 form`,
      { path, hint: FORMAT_HINT },
    );
  }
}

/** A variable with the key path it came from (for messages). */
interface NamedLeaf {
  name: string;
  value: string;
  path: TreePath;
}

function namedLeaves(tree: MapNode, naming: Partial<DotenvNaming>): NamedLeaf[] {
  const rules: DotenvNaming = { ...DEFAULT_DOTENV_NAMING, ...naming };
  const owners = new Map<string, TreePath>();
  return flattenTree(tree).map(([path, value]) => {
    const name = envName(path, rules);
    if (name === '')
      throw new RenderError('RENDER_INVALID_NAME', 'this key gives an empty environment variable name', {
        path,
        hint: 'set render.dotenv.prefix, or rename the key',
      });
    const owner = owners.get(name);
    if (owner !== undefined) {
      throw new RenderError(
        'RENDER_NAME_COLLISION',
        `${formatPath(owner)} and ${formatPath(path)} both become the variable ${name}`,
        {
          path,
          hint: 'rename one of the keys, or change render.dotenv.separator',
        },
      );
    }
    owners.set(name, path);
    checkEnvValue(name, path, value);
    return { name, value, path };
  });
}

/**
 * The environment variables of `tree`, in document order: every leaf (lists by index; null as
 * ''), named `prefix + path.join(separator)`, then cased, then every character outside
 * `[A-Za-z0-9_]` replaced by `_`, with `_` put before a leading digit.
 *
 * @throws RenderError `RENDER_NAME_COLLISION` when two key paths give one name (`db.password`
 * and `db_password`), naming both paths; `RENDER_INVALID_NAME` when a path gives an empty name;
 * `RENDER_UNREPRESENTABLE` for a value with a NUL or an unpaired surrogate.
 */
export function envVars(tree: MapNode, naming: Partial<DotenvNaming> = {}): EnvVar[] {
  return namedLeaves(tree, naming).map(({ name, value }) => [name, value]);
}

// --- .env (dotenv / dotenvx) -------------------------------------------------------------------
//
// What the readers do (the `dotenv` package's regex parser and its `fast` one, and dotenvx's
// `parseSync`; all three are run over every case in test/render.test.ts), and so what each
// quoting can carry:
// - The whole file has `\r\n` and `\r` turned into `\n` first: a CR survives only as the `\r`
//   escape, which only double quotes have.
// - '…' and `…` are literal and may span lines. "…" may span lines and turns `\n` and `\r` (and,
//   in dotenvx only, `\t`) into control characters; there is no other escape, so a value holding
//   the text `\n`, `\r` or `\t` cannot go in double quotes. dotenvx alone turns `\'` into `'`
//   inside single quotes.
// - A quoted value ends at the first matching quote followed by only blanks, or a `#` comment,
//   up to the end of the line. A quote right after a backslash does not end it and the search
//   goes on into later lines; it stops at a matching quote without a backslash before it.
//   So a value ending in `\` cannot be quoted the usual way: its closing quote is skipped.
// - "Line mode": when the search finds no closing quote, the value is the rest of the line up
//   to `#`, and a matching pair of outer quotes is still stripped. So a one-line value without
//   `#` may hold its own quote kind: `K='it's'` reads `it's` everywhere. (U+2028/U+2029 count
//   as line ends in some places of the readers and not in others: see `lineMode`.)
// - dotenvx expands `$NAME` and `${…}`, runs `$(…)` as a shell command and turns `\$` into `$` in
//   every value that is not single-quoted (backticks included, whatever its docs suggest).
// - Unquoted values end at `#` or the end of the line and are trimmed.

/**
 * What dotenvx rewrites outside single quotes: its `$NAME`/`${…}` pattern, `\$`, and `$(` with
 * a `)` after it (a superset of what it would run as a command: a value is never handed to a
 * shell on a guess).
 */
const EXPANDABLE = /\$[A-Za-z_]|\$\{[^{}]+\}|\$\([\s\S]*\)|\\\$/;

/** Every `quote` in `v` has a backslash before it (so no reader ends the value there), or there is none. */
function allEscaped(v: string, quote: string): boolean {
  return !new RegExp(`(^|[^\\\\])${quote}`).test(v);
}

/**
 * Whether `text` (what goes between the quotes) is read in line mode: one line without `#`, and
 * the readers' search for a closing quote meets an inner `quote` without a backslash before it
 * (where the search stops) before any inner quote that looks like a closing one, i.e. that only
 * blanks separate from a U+2028/U+2029 line end. Such a value may even end in `\`.
 */
function lineMode(text: string, quote: string): boolean {
  if (/[\n\r#]/.test(text)) return false;
  for (let i = text.indexOf(quote); i >= 0; i = text.indexOf(quote, i + 1)) {
    if (/^\s*[\u2028\u2029]/.test(text.slice(i + 1))) return false;
    if (text[i - 1] !== '\\') return true;
  }
  return false;
}

// Each quote kind either holds only escaped copies of itself (then the value may span lines
// but not end in `\`, whose closing quote would be skipped), or goes to line mode.

/** dotenvx turns `\'` into `'` in single quotes, so `\'` may not appear at all. */
function fitsSingle(v: string): boolean {
  if (!v.includes("'")) return !v.includes('\r') && !v.endsWith('\\');
  return !v.includes("\\'") && lineMode(v, "'");
}

function fitsBacktick(v: string): boolean {
  if (EXPANDABLE.test(v)) return false;
  return allEscaped(v, '`') ? !v.includes('\r') && !v.endsWith('\\') : lineMode(v, '`');
}

/** Line breaks go in as `\n`/`\r` escapes, so a multi-line value may use line mode here. */
function escapeDouble(v: string): string {
  return v.replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

function fitsDouble(v: string): boolean {
  if (EXPANDABLE.test(v) || /\\[nrt]/.test(v)) return false;
  return allEscaped(v, '"') ? !v.endsWith('\\') : lineMode(escapeDouble(v), '"');
}

/** Unquoted: the one way to write a value that ends in a backslash and holds no quote. */
function fitsBare(v: string): boolean {
  return v !== '' && v.trim() === v && !/[\n\r#]/.test(v) && !/^['"`]/.test(v) && !EXPANDABLE.test(v);
}

/**
 * `value` as a `.env` value, or undefined when no quoting makes dotenv and dotenvx read it back
 * exactly. Single quotes first (literal to every reader), then backticks, then double quotes
 * with `\n`/`\r` escapes, then bare.
 */
export function dotenvLiteral(value: string): string | undefined {
  if (fitsSingle(value)) return `'${value}'`;
  if (fitsBacktick(value)) return `\`${value}\``;
  if (fitsDouble(value)) return `"${escapeDouble(value)}"`;
  if (fitsBare(value)) return value;
  return undefined;
}

/**
 * A `.env` file of the tree's variables (see {@link envVars}), one `NAME=value` line each,
 * quoted so that the `dotenv` package (either parser) and dotenvx read back every value exactly.
 * Empty for an empty tree.
 *
 * Refused values are those no quoting carries to all three readers (test/render.test.ts tries
 * every quoting on each): they hold a single quote, a CR or a trailing backslash, and for
 * instance all three quote kinds and a `#`, or a `'` and a line break and `$NAME` (which
 * dotenvx would expand in backticks and double quotes).
 *
 * @throws RenderError `RENDER_UNREPRESENTABLE` (naming the variable and key path) for such a
 * value, and whatever {@link envVars} throws.
 */
export function renderDotenv(tree: MapNode, naming: Partial<DotenvNaming> = {}): string {
  return namedLeaves(tree, naming)
    .map(({ name, value, path }) => {
      const literal = dotenvLiteral(value);
      if (literal === undefined) {
        throw new RenderError(
          'RENDER_UNREPRESENTABLE',
          `the value of ${name} cannot be quoted so that dotenv and dotenvx read it back exactly`,
          {
            path,
            hint: FORMAT_HINT,
          },
        );
      }
      return `${name}=${literal}\n`;
    })
    .join('');
}

// --- docker run --env-file ---------------------------------------------------------------------

/** bufio.Scanner's default MaxScanTokenSize: docker's reader fails on a longer line (with its newline). */
const DOCKER_MAX_LINE_BYTES = 64 * 1024;

/**
 * The tree's variables (see {@link envVars}) for `docker run --env-file`: `NAME=value` lines
 * written raw. Docker (`opts.ParseEnvFile`) splits the file into lines, dropping a CR before
 * each `\n`, and takes everything after the first `=` as the value, with no quotes, escapes or
 * trimming, so a value can hold anything but a line break. (Compose's `env_file` is not this
 * format: it has a dotenv-style reader of its own.)
 *
 * @throws RenderError `RENDER_UNREPRESENTABLE` (naming the variable and key path) for a value
 * holding `\n` or `\r`, or a line longer than docker's 64 KiB limit, and whatever
 * {@link envVars} throws.
 */
export function renderDockerEnv(tree: MapNode, naming: Partial<DotenvNaming> = {}): string {
  return namedLeaves(tree, naming)
    .map(({ name, value, path }) => {
      if (/[\r\n]/.test(value)) {
        throw new RenderError(
          'RENDER_UNREPRESENTABLE',
          `the value of ${name} spans lines, which docker's --env-file format cannot carry`,
          { path, hint: 'use --format dotenv or json, or mount the value as a file' },
        );
      }
      const line = `${name}=${value}\n`;
      if (Buffer.byteLength(line, 'utf8') > DOCKER_MAX_LINE_BYTES) {
        throw new RenderError(
          'RENDER_UNREPRESENTABLE',
          `the value of ${name} is longer than docker's --env-file reader accepts (64 KiB a line)`,
          { path, hint: 'mount it as a file instead' },
        );
      }
      return line;
    })
    .join('');
}
