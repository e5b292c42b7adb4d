/**
 * Leaves of a decrypted tree as text, for the deploy-time renderers (dotenv, docker env-file,
 * Kubernetes Secrets, `exec`). Pure: no fs, no env, no clock.
 *
 * Also home of {@link RenderError}, the one error type the renderers throw on purpose. Like every
 * {@link SealantError}, its messages name key paths and variable names, never values: the trees
 * rendered here hold decrypted secrets.
 */
import { SealantError, type ErrorCode, type SealantErrorOptions } from '../errors.js';
import { scalarText, type Node, type ScalarValue, type TreePath } from '../format/tree.js';

/**
 * Why a render failed; part of the `--json` API (`code`). Meanings and exit codes are in the
 * `ERRORS` table of errors.ts: an unrepresentable value is solved by picking another output format (a usage
 * matter); the others by changing the render settings or the keys in `.sealant.yaml`.
 */
export type RenderErrorCode = Extract<ErrorCode, `RENDER_${string}`>;

/** A tree cannot be rendered as asked. The message names keys, never values. */
export class RenderError extends SealantError {
  declare readonly code: RenderErrorCode;

  constructor(code: RenderErrorCode, message: string, options: SealantErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * A scalar as the text an output format writes: strings as they are, ints in decimal, floats in
 * Go's `'f'` form (what SOPS itself prints, so `1e21` is `1000000000000000000000`), bools as
 * `true`/`false`, timestamps as written in the source.
 *
 * `null` becomes the empty string: environment variables and Secret keys have no null, and an
 * empty value is what `KEY:` (no value) means to the YAML and dotenv readers of these files too.
 */
export function scalarString(value: ScalarValue): string {
  return scalarText(value) ?? '';
}

/** One leaf of a flattened tree: its path, its text, and its path joined by the separator. */
export type FlatLeaf = [path: TreePath, value: string, key: string];

export interface FlattenOptions {
  /** Joins the path segments into the third element of each leaf (indexes as decimals). Default `.`. */
  separator?: string;
  /** Turns a scalar into text. Default {@link scalarString}. */
  transform?: (value: ScalarValue, path: TreePath) => string;
}

/**
 * Every leaf of `tree` in document order. Lists are flattened by index (`hosts.0`); empty maps
 * and lists produce nothing (there is no value to write); comments are skipped.
 */
export function flattenTree(tree: Node, options: FlattenOptions = {}): FlatLeaf[] {
  const separator = options.separator ?? '.';
  const transform = options.transform ?? scalarString;
  const out: FlatLeaf[] = [];
  const visit = (node: Node, path: TreePath): void => {
    if (node.kind === 'scalar') {
      out.push([path, transform(node.value, path), path.map(String).join(separator)]);
      return;
    }
    if (node.kind === 'map') {
      for (const item of node.items) if (item.kind === 'entry') visit(item.value, [...path, item.key]);
      return;
    }
    let index = 0;
    for (const item of node.items) {
      if (item.kind === 'comment') continue;
      visit(item, [...path, index]);
      index += 1;
    }
  };
  visit(tree, []);
  return out;
}

/**
 * True when `text` holds an unpaired UTF-16 surrogate. Such a string has no UTF-8 encoding: a
 * file or environment written from it silently gets U+FFFD instead, so renderers refuse it.
 */
export function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}
