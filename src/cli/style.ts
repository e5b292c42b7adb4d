/**
 * Terminal colour, only where it helps: a TTY, `NO_COLOR` not set (https://no-color.org), and not
 * `--json` (JSON output is an API and must stay byte-for-byte plain).
 */

/** The stream facts colour depends on; `process.stdout`/`process.stderr` fit. */
export interface StyleTarget {
  isTTY?: boolean;
}

/** Options for {@link colorEnabled}. */
export interface ColorOptions {
  /** The environment to read `NO_COLOR` from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** True when the command runs with `--json`. */
  json?: boolean;
}

/** Whether escape codes may be written to `stream`. */
export function colorEnabled(stream: StyleTarget, opts: ColorOptions = {}): boolean {
  const env = opts.env ?? process.env;
  // no-color.org: "present and not an empty string" disables colour.
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (opts.json === true) return false;
  return stream.isTTY === true;
}

/** Colour functions bound to one decision; each returns its input unchanged when colour is off. */
export interface Style {
  readonly enabled: boolean;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

function sgr(open: number, close: number, on: boolean): (s: string) => string {
  return on ? (s) => `\u001b[${open}m${s}\u001b[${close}m` : (s) => s;
}

/** Builds the colour helpers for one stream. */
export function createStyle(stream: StyleTarget, opts: ColorOptions = {}): Style {
  const on = colorEnabled(stream, opts);
  return {
    enabled: on,
    red: sgr(31, 39, on),
    yellow: sgr(33, 39, on),
    green: sgr(32, 39, on),
    cyan: sgr(36, 39, on),
    bold: sgr(1, 22, on),
    dim: sgr(2, 22, on),
  };
}
