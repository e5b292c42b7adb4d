/**
 * Reading a config file as a YAML `Document` that remembers where every node came from, so a
 * problem found in the plain data (by the JSON schema or by a semantic check) can be reported at
 * its line and column.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { ConfigError } from '../errors.js';

/** A parsed config file: the document, its line index, and the name used in messages. */
export interface ConfigYaml {
  doc: Document.Parsed;
  lines: LineCounter;
  /** The file as shown to the user. */
  file: string;
}

/** A position in the file, 1-based. */
export interface Position {
  line: number;
  col: number;
}

/**
 * Parses `text`.
 * @throws ConfigError at the first syntax error (YAML's own fixed message, never the source text).
 */
export function parseConfigYaml(text: string, file: string): ConfigYaml {
  const lines = new LineCounter();
  // prettyErrors off: pretty messages quote the offending source line, which may hold anything.
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    keepSourceTokens: false,
  });
  const err = doc.errors[0];
  if (err !== undefined) {
    const pos = lines.linePos(err.pos[0]);
    const message = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+.*$/, '');
    throw new ConfigError(`invalid YAML: ${message}`, { file, line: pos.line, col: pos.col });
  }
  return { doc, lines, file };
}

/** The plain value of the document (aliases expanded, bounded). */
export function plainValue(y: ConfigYaml): unknown {
  try {
    return y.doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch {
    throw new ConfigError('invalid YAML: too many alias expansions', { file: y.file });
  }
}

/** Start of a node in the file. */
export function positionOf(y: ConfigYaml, node: YamlNode | null | undefined): Position | undefined {
  const offset = node?.range?.[0];
  return offset === undefined ? undefined : y.lines.linePos(offset);
}

/** Text of a scalar key, as JavaScript sees it in the plain value. */
function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/**
 * Where the value at `path` is written: for a mapping entry, its key; for a sequence item, the
 * item. Falls back to the nearest ancestor that exists (and to line 1 for the root).
 */
export function locate(y: ConfigYaml, path: readonly (string | number)[]): Position {
  let node: unknown = y.doc.contents;
  let best: Position = positionOf(y, y.doc.contents) ?? { line: 1, col: 1 };
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(seg));
      if (pair === undefined) break;
      best = positionOf(y, pair.key as YamlNode) ?? best;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) break;
      best = positionOf(y, item as YamlNode) ?? best;
      node = item;
    } else {
      break;
    }
  }
  return best;
}

/** A {@link ConfigError} at `path` of `y`. */
export function errorAt(
  y: ConfigYaml,
  path: readonly (string | number)[],
  message: string,
  hint?: string,
): ConfigError {
  const pos = locate(y, path);
  return new ConfigError(message, {
    file: y.file,
    line: pos.line,
    col: pos.col,
    path,
    ...(hint === undefined ? {} : { hint }),
  });
}
