/**
 * Small helpers shared by the source-preserving stores (JSON, dotenv, INI, binary): value
 * equality used to decide whether a node's original bytes can be kept, and source positions
 * for error messages.
 */
import { UnsupportedDocumentError } from '../errors.js';
import { formatGoFloatG } from '../format/gofloat.js';
import { sameScalar, scalarText, type CommentNode, type MapNode, type Node, type ScalarValue } from '../format/tree.js';

export { sameScalar };

/** Deep equality of two trees, comments and order included. */
export function sameNode(a: Node | CommentNode, b: Node | CommentNode): boolean {
  if (a.kind === 'comment' || b.kind === 'comment') {
    return (
      a.kind === 'comment' && b.kind === 'comment' && a.text === b.text && (a.inline ?? false) === (b.inline ?? false)
    );
  }
  if (a.kind === 'scalar' || b.kind === 'scalar')
    return a.kind === 'scalar' && b.kind === 'scalar' && sameScalar(a.value, b.value);
  if (a.items.length !== b.items.length) return false;
  if (a.kind === 'map' && b.kind === 'map') {
    return a.items.every((item, i) => {
      const other = b.items[i];
      if (other === undefined) return false;
      if (item.kind === 'entry' || other.kind === 'entry')
        return (
          item.kind === 'entry' && other.kind === 'entry' && item.key === other.key && sameNode(item.value, other.value)
        );
      return sameNode(item, other);
    });
  }
  if (a.kind === 'seq' && b.kind === 'seq')
    return a.items.every((item, i) => b.items[i] !== undefined && sameNode(item, b.items[i] as Node | CommentNode));
  return false;
}

/** 1-based line and column of `offset` in `text`. */
export function positionAt(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

/**
 * The single document of a non-YAML store.
 * @throws UnsupportedDocumentError when there is not exactly one document.
 */
export function singleDocument(documents: readonly MapNode[], format: string): MapNode {
  const [doc] = documents;
  if (doc === undefined || documents.length !== 1)
    throw new UnsupportedDocumentError(`a ${format} file holds exactly one document (got ${documents.length})`);
  return doc;
}

/**
 * A scalar as text for the flat formats (dotenv, INI), which have no types on disk: sops's
 * `stores.ValToString` (3.11+, used by both stores). Floats are the shortest `'G'` form, with
 * `.0` added when that would read as an integer (`3.0`, `1E+20`, `0.5`), so a float converted
 * from YAML or JSON stays recognisably a float; everything else as {@link scalarText} writes it.
 */
export function scalarAsText(v: ScalarValue): string {
  if (v.type !== 'float') return scalarText(v) ?? '';
  const g = formatGoFloatG(v.value);
  if (g.includes('.') || g.includes('E') || !Number.isFinite(v.value)) return g;
  return `${g}.0`;
}

/** Pieces of line-based output; a piece whose source had no final newline gets one if anything follows. */
export interface LinePiece {
  text: string;
  /** Whether `text` is followed by a line break in the output. */
  newline: boolean;
}

/** Joins line pieces, inserting a line break after a piece that lacked one when more follows. */
export function joinLines(pieces: readonly LinePiece[], trailer = ''): string {
  let out = '';
  let open = false;
  for (const piece of pieces) {
    if (open) out += '\n';
    out += piece.text;
    if (piece.newline) out += '\n';
    open = !piece.newline;
  }
  if (open && trailer !== '') out += '\n';
  return out + trailer;
}
