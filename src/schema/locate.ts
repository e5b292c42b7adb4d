/**
 * Where a key path is in a file's text, for `file:line:col` output. YAML and JSON are re-parsed
 * with the `yaml` package (JSON is YAML's flow syntax) and a LineCounter; only files that have
 * findings pay for it. dotenv/INI: the line of the key.
 */
import { CST, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, Parser, type Node as YamlNode } from 'yaml';
import type { FileFormat } from '../stores/store.js';
import { pointerSegments } from './instance.js';

/** 1-based line and column. */
export interface Position {
  line: number;
  col: number;
}

const TOP: Position = { line: 1, col: 1 };

/** Finds key paths in one file's text; parses lazily, once. */
export class Locator {
  private docs: (YamlNode | null)[] | undefined;
  private readonly counter = new LineCounter();

  constructor(
    private readonly text: string,
    private readonly format: FileFormat,
  ) {}

  /**
   * The position of the deepest node along `pointer` that exists (a missing key points at its
   * parent; the key itself, not its value, for a mapping entry).
   */
  locate(doc: number, pointer: string): Position {
    const segments = pointerSegments(pointer);
    if (this.format === 'yaml' || this.format === 'json') return this.locateYaml(doc, segments);
    return this.locateLine(segments);
  }

  private cst: CST.Document[] | undefined;
  private readonly cstCounter = new LineCounter();

  /**
   * Block-style files (every SOPS file) are located on the parser's tokens alone, which costs a
   * fraction of composing a Document; anything else (flow collections, aliases, complex keys)
   * falls back to the composed document.
   */
  private locateCst(doc: number, segments: readonly string[]): Position | undefined {
    this.cst ??= [...new Parser(this.cstCounter.addNewLine).parse(this.text)].filter(
      (t): t is CST.Document => t.type === 'document',
    );
    let tok: CST.Token | undefined = this.cst[doc]?.value;
    let best = TOP;
    const at = (offset: number): Position => {
      const { line, col } = this.cstCounter.linePos(offset);
      return { line, col };
    };
    for (const seg of segments) {
      if (tok === undefined) return undefined;
      if (tok.type === 'block-map') {
        const item = tok.items.find((it) => {
          if (it.key === undefined || it.key === null || !CST.isScalar(it.key)) return false;
          return CST.resolveAsScalar(it.key)?.value === seg;
        });
        if (item === undefined) {
          // A key we cannot read from tokens (alias, complex key) may still be there.
          if (tok.items.some((it) => it.key !== undefined && it.key !== null && !CST.isScalar(it.key)))
            return undefined;
          break;
        }
        best = at(item.key!.offset);
        tok = item.value;
      } else if (tok.type === 'block-seq') {
        const item = tok.items[Number(seg)];
        if (item === undefined || !/^\d+$/.test(seg)) break;
        if (item.value === undefined) return undefined;
        best = at(item.value.offset);
        tok = item.value;
      } else if (CST.isScalar(tok)) {
        break;
      } else {
        return undefined;
      }
    }
    return best;
  }

  private parsed(): (YamlNode | null)[] {
    this.docs ??= parseAllDocuments(this.text, { lineCounter: this.counter, uniqueKeys: false }).flatMap((d) =>
      'contents' in d ? [d.contents as YamlNode | null] : [],
    );
    return this.docs;
  }

  private pos(offset: number | undefined): Position {
    if (offset === undefined) return TOP;
    const { line, col } = this.counter.linePos(offset);
    return { line, col };
  }

  private locateYaml(doc: number, segments: readonly string[]): Position {
    const fast = this.locateCst(doc, segments);
    if (fast !== undefined) return fast;
    let node: unknown = this.parsed()[doc];
    let best = TOP;
    for (const seg of segments) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === seg);
        if (pair === undefined) break;
        best = this.pos(isScalar(pair.key) ? pair.key.range?.[0] : undefined);
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (item === undefined) break;
        best = this.pos((item as YamlNode).range?.[0]);
        node = item;
      } else break;
    }
    return best;
  }

  /** dotenv/INI: the first line defining the last key (after its `[section]` for INI). */
  private locateLine(segments: readonly string[]): Position {
    const key = segments[segments.length - 1];
    if (key === undefined) return TOP;
    const lines = this.text.split('\n');
    if (key === 'sops' && segments.length === 1) {
      const i = lines.findIndex((l) => l.startsWith('sops_') || l.trim() === '[sops]');
      return i < 0 ? TOP : { line: i + 1, col: 1 };
    }
    const section =
      this.format === 'ini' && segments.length > 1 ? lines.findIndex((l) => l.trim() === `[${segments[0]}]`) : -1;
    for (let i = Math.max(0, section + 1); i < lines.length; i++) {
      const m = /^(\s*)(?:export\s+)?([^=:\s]+)\s*[=:]/.exec(lines[i] ?? '');
      if (m?.[2] === key) return { line: i + 1, col: (m[1] ?? '').length + 1 };
    }
    return section >= 0 ? { line: section + 1, col: 1 } : TOP;
  }
}
