/**
 * JSON instances built from a SOPS document for ajv, and the JSON-pointer bookkeeping that maps
 * ajv's `instancePath` back to key paths.
 *
 * Without keys, an encrypted leaf still tells its type (`type:` in `ENC[...]`), so it becomes a
 * placeholder of that type. Two instances are built: `low` and `high`, whose placeholders sit at
 * opposite ends of every value rule (empty vs very long strings, the smallest vs the largest
 * safe integers, false vs true). A value rule at an encrypted leaf fails in at least one of
 * them, so every rule that needs the real value is seen — and reported as needing keys, never
 * guessed.
 */
import { isEncValue, parseEnc, type EncType } from '../format/codec.js';
import { scalarToPlain, type MapNode, type Node, type ScalarNode, type TreePath } from '../format/tree.js';
import type { LeafIndex } from './ajv.js';

/** The instances and facts of one document. */
export interface BuiltInstance {
  low: Record<string, unknown>;
  high: Record<string, unknown>;
  /** Every leaf by JSON pointer: encrypted, clear, or empty (`""`/null, which SOPS never encrypts). */
  index: Map<string, 'encrypted' | 'clear' | 'empty'>;
  /** The `type:` tag of each encrypted leaf. */
  encTypes: Map<string, EncType>;
  /** Key paths of `ENC[...]` values that do not parse. */
  malformed: TreePath[];
}

/** Longer than any realistic `maxLength`, so the `high` string fails it. */
const LONG = '\u0000'.repeat(4096);
/** Not an integer, and larger than any realistic `maximum`: the `high` float. */
const HIGH_FLOAT = 4503599627370495.5;

/** Escapes one JSON-pointer segment (RFC 6901). */
export function escapePointer(segment: string | number): string {
  return String(segment).replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Splits an ajv `instancePath` into segments (unescaped, still strings). */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** The key path of `pointer` in `instance`: sequence indexes become numbers. */
export function pointerToPath(instance: unknown, pointer: string): TreePath {
  const out: TreePath = [];
  let cur = instance;
  for (const seg of pointerSegments(pointer)) {
    if (Array.isArray(cur)) {
      out.push(Number(seg));
      cur = cur[Number(seg)] as unknown;
    } else {
      out.push(seg);
      cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

/** True when `pointer` is `base` or lies under it. */
export function isUnder(pointer: string, base: string): boolean {
  return pointer === base || pointer.startsWith(`${base}/`);
}

function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, not assignment: a key named `__proto__` must stay a key.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The two placeholders for an encrypted leaf of type `type`; `n` keeps them unique. */
function placeholders(type: EncType, n: number): [unknown, unknown] {
  switch (type) {
    case 'int':
      return [Number.MIN_SAFE_INTEGER + n, Number.MAX_SAFE_INTEGER - n];
    case 'float':
      return [-1e300 - n * 1e285, HIGH_FLOAT - n];
    case 'bool':
      return [false, true];
    default:
      return ['', `${LONG}${n}`];
  }
}

class Builder {
  readonly out: BuiltInstance = { low: {}, high: {}, index: new Map(), encTypes: new Map(), malformed: [] };
  private count = 0;

  map(m: MapNode, pointer: string, path: TreePath): [Record<string, unknown>, Record<string, unknown>] {
    const low: Record<string, unknown> = {};
    const high: Record<string, unknown> = {};
    for (const item of m.items) {
      if (item.kind !== 'entry') continue;
      const [l, h] = this.node(item.value, `${pointer}/${escapePointer(item.key)}`, [...path, item.key]);
      setKey(low, item.key, l);
      setKey(high, item.key, h);
    }
    return [low, high];
  }

  node(n: Node, pointer: string, path: TreePath): [unknown, unknown] {
    if (n.kind === 'map') return this.map(n, pointer, path);
    if (n.kind === 'seq') {
      const low: unknown[] = [];
      const high: unknown[] = [];
      for (const item of n.items) {
        if (item.kind === 'comment') continue;
        const [l, h] = this.node(item, `${pointer}/${low.length}`, [...path, low.length]);
        low.push(l);
        high.push(h);
      }
      return [low, high];
    }
    return this.leaf(n, pointer, path);
  }

  private leaf(n: ScalarNode, pointer: string, path: TreePath): [unknown, unknown] {
    const v = n.value;
    if (v.type === 'str' && isEncValue(v.value)) {
      let type: EncType = 'str';
      try {
        type = parseEnc(v.value).type;
      } catch {
        this.out.malformed.push(path);
      }
      this.out.index.set(pointer, 'encrypted');
      this.out.encTypes.set(pointer, type);
      this.count += 1;
      return placeholders(type, this.count);
    }
    const empty = v.type === 'null' || (v.type === 'str' && v.value === '');
    this.out.index.set(pointer, empty ? 'empty' : 'clear');
    const plain = scalarToPlain(v);
    return [plain, plain];
  }
}

/** Builds the `low`/`high` instances and leaf facts of one (still encrypted) document. */
export function buildInstance(doc: MapNode): BuiltInstance {
  const b = new Builder();
  const [low, high] = b.map(doc, '', []);
  b.out.low = low;
  b.out.high = high;
  return b.out;
}

/** Only the leaf index (for a decrypted run, where the values are real). */
export function leafIndexOf(doc: MapNode): LeafIndex {
  return buildInstance(doc).index;
}
