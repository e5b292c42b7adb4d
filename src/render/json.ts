/**
 * The merged tree as plain JSON or YAML data for applications that read a config file
 * (`sealant render --format json|yaml`). Pure: no fs, no env, no clock.
 *
 * Both keep the tree's key order and types. Comments never reach this point (the merge drops
 * them), so the output is data only.
 */
import { Document, Scalar, YAMLMap, YAMLSeq, parseDocument, type ScalarTag } from 'yaml';
import { formatGoJsonFloat } from '../format/gofloat.js';
import type { MapNode, Node, ScalarValue, TreePath } from '../format/tree.js';
import { hasLoneSurrogate, RenderError } from './values.js';

// --- JSON ----------------------------------------------------------------------------------------

/**
 * A scalar as JSON text. Ints within ±(2^53−1) are numbers; larger ones are strings, because
 * most JSON readers (JavaScript's among them) would silently round them as numbers, and a
 * rounded secret is worse than a quoted one. Floats are written as Go's `json.Marshal` does
 * (what `sops -d --output-type json` prints); timestamps as strings.
 */
function jsonScalar(v: ScalarValue, path: TreePath): string {
  switch (v.type) {
    case 'null':
      return 'null';
    case 'bool':
      return v.value ? 'true' : 'false';
    case 'str':
    case 'time':
      return JSON.stringify(v.value);
    case 'int': {
      const safe = v.value >= BigInt(Number.MIN_SAFE_INTEGER) && v.value <= BigInt(Number.MAX_SAFE_INTEGER);
      return safe ? v.value.toString() : JSON.stringify(v.value.toString());
    }
    case 'float':
      if (!Number.isFinite(v.value)) {
        throw new RenderError('RENDER_UNREPRESENTABLE', 'JSON has no NaN or infinity', {
          path,
          hint: 'render with --format yaml, or quote the value in the source file',
        });
      }
      return formatGoJsonFloat(v.value);
    case 'bytes':
      throw new RenderError('RENDER_UNREPRESENTABLE', 'the value is binary content (not valid UTF-8 text)', { path });
  }
}

function jsonText(node: Node, path: TreePath, indent: string): string {
  if (node.kind === 'scalar') return jsonScalar(node.value, path);
  const inner = `${indent}  `;
  // Written by hand rather than with JSON.stringify: a JavaScript object would move keys that
  // look like integers (`"10"`) to the front and lose the file's order.
  const parts: string[] = [];
  if (node.kind === 'map') {
    for (const item of node.items)
      if (item.kind === 'entry')
        parts.push(`${inner}${JSON.stringify(item.key)}: ${jsonText(item.value, [...path, item.key], inner)}`);
  } else {
    for (const item of node.items)
      if (item.kind !== 'comment') parts.push(`${inner}${jsonText(item, [...path, parts.length], inner)}`);
  }
  const [open, close] = node.kind === 'map' ? ['{', '}'] : ['[', ']'];
  return parts.length === 0 ? `${open}${close}` : `${open}\n${parts.join(',\n')}\n${indent}${close}`;
}

/**
 * The tree as a JSON document: 2-space indent, final newline, the tree's key order. Ints beyond
 * ±(2^53−1) are written as strings (see above).
 *
 * @throws RenderError `RENDER_UNREPRESENTABLE` (naming the key path) for a NaN or infinite float.
 */
export function renderJson(tree: MapNode): string {
  return `${jsonText(tree, [], '')}\n`;
}

// --- YAML ----------------------------------------------------------------------------------------

/** A float to be written in a form both YAML 1.1 and 1.2 readers take as a float. */
class YamlFloat {
  constructor(readonly value: number) {}
}

/**
 * `1.0` not `1` (which reads back as an int), and `1.0e+21` not `1e+21` (which YAML 1.1
 * readers such as PyYAML take for a string: their float pattern needs a dot).
 */
function yamlFloatText(n: number): string {
  if (Number.isNaN(n)) return '.nan';
  if (!Number.isFinite(n)) return n > 0 ? '.inf' : '-.inf';
  const text = Object.is(n, -0) ? '-0' : String(n);
  const [mantissa = '', exponent] = text.split('e');
  const withDot = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return exponent === undefined ? withDot : `${withDot}e${exponent}`;
}

const floatTag: ScalarTag = {
  tag: 'tag:yaml.org,2002:float',
  default: true, // no explicit `!!float`
  identify: (value) => value instanceof YamlFloat,
  resolve: (source) => Number(source),
  stringify: (item) => yamlFloatText((item.value as YamlFloat).value),
};

/**
 * True when `text`, written as a plain (unquoted) scalar, would be read back as something other
 * than this string by a YAML 1.2 reader (`0o755`, `1e3`, `null`) or a YAML 1.1 one (`yes`, `on`,
 * `0755`, `2024-01-01`, `1:20`, `1_000`) — Kubernetes, Go's yaml.v2 and PyYAML are 1.1 readers.
 * `=` (YAML 1.1's value key) and `<<` (its merge key) are special to some 1.1 readers but not to
 * the library's 1.1 schema, so they are listed by hand.
 */
function misreadWhenPlain(text: string): boolean {
  if (text.includes('\n')) return false; // the library writes these as block or quoted scalars: always strings
  if (text === '=' || text === '<<') return true;
  return (['1.1', '1.2'] as const).some((version) => {
    // Silent: the library would otherwise print a warning that quotes the text, i.e. a secret.
    const doc = parseDocument(text, { version, logLevel: 'silent' });
    if (doc.errors.length > 0 || doc.warnings.length > 0) return true;
    try {
      return doc.toJS() !== text;
    } catch {
      return true; // an alias without its anchor (`*x`)
    }
  });
}

/**
 * The library writes a multi-line string as a block scalar, but gets one wrong when lines of
 * only blanks leave no line with text to set the indentation (`" \n"` comes back as `"\n"`).
 * To be safe, every multi-line string with a blank-only line is double-quoted instead.
 */
function blockUnsafe(text: string): boolean {
  return text.includes('\n') && /(^|\n)[ \t]+(\n|$)/.test(text);
}

function stringScalar(text: string, path: TreePath): Scalar {
  if (hasLoneSurrogate(text)) {
    throw new RenderError(
      'RENDER_UNREPRESENTABLE',
      'a string is not valid Unicode (unpaired surrogate) and has no YAML form',
      { path, hint: 'render with --format json' },
    );
  }
  const node = new Scalar(text);
  if (misreadWhenPlain(text) || blockUnsafe(text)) node.type = Scalar.QUOTE_DOUBLE;
  return node;
}

function treeScalar(v: ScalarValue, path: TreePath): Scalar {
  switch (v.type) {
    case 'str':
      return stringScalar(v.value, path);
    case 'time': {
      // Written as in the source (unquoted), so each reader types it as it did the source file.
      const node = new Scalar(v.value);
      node.type = Scalar.PLAIN;
      return node;
    }
    case 'float':
      return new Scalar(new YamlFloat(v.value));
    case 'null':
      return new Scalar(null);
    case 'bytes':
      throw new RenderError('RENDER_UNREPRESENTABLE', 'the value is binary content (not valid UTF-8 text)', { path });
    default:
      return new Scalar(v.value); // bigint (exact, any size: YAML ints are unbounded) or boolean
  }
}

function yamlFromTree(node: Node, path: TreePath): Scalar | YAMLMap | YAMLSeq {
  if (node.kind === 'scalar') return treeScalar(node.value, path);
  if (node.kind === 'map') {
    const out = new YAMLMap();
    for (const item of node.items)
      if (item.kind === 'entry')
        out.add({
          key: stringScalar(item.key, [...path, item.key]),
          value: yamlFromTree(item.value, [...path, item.key]),
        });
    return out;
  }
  const out = new YAMLSeq();
  for (const item of node.items) if (item.kind !== 'comment') out.add(yamlFromTree(item, [...path, out.items.length]));
  return out;
}

/** JSON-like data (what Kubernetes manifests are made of). */
export type PlainData = string | number | boolean | null | PlainData[] | { [key: string]: PlainData | undefined };

function yamlFromPlain(value: PlainData, path: TreePath): Scalar | YAMLMap | YAMLSeq {
  if (typeof value === 'string') return stringScalar(value, path);
  if (Array.isArray(value)) {
    const out = new YAMLSeq();
    value.forEach((v, i) => out.add(yamlFromPlain(v, [...path, i])));
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out = new YAMLMap();
    for (const [k, v] of Object.entries(value))
      if (v !== undefined) out.add({ key: stringScalar(k, [...path, k]), value: yamlFromPlain(v, [...path, k]) });
    return out;
  }
  return new Scalar(value);
}

function yamlText(contents: Scalar | YAMLMap | YAMLSeq): string {
  const doc = new Document(null, { customTags: [floatTag] });
  doc.contents = contents;
  // lineWidth 0: never fold a long value (a folded secret reads back the same, but is harder to diff).
  return doc.toString({ lineWidth: 0, indent: 2 });
}

/**
 * The tree as a YAML document: plain data, no comments, the tree's key order. Strings that a
 * YAML 1.1 or 1.2 reader would take for another type when unquoted (`yes`, `on`, `0755`,
 * `2024-01-01`, `0o7`, `null`…) are double-quoted, keys included; floats always carry a dot;
 * big ints are written exactly; timestamps stay unquoted, as in the source.
 *
 * @throws RenderError `RENDER_UNREPRESENTABLE` (naming the key path) for a string with an
 * unpaired surrogate, which has no UTF-8 form.
 */
export function renderYaml(tree: MapNode): string {
  return yamlText(yamlFromTree(tree, []));
}

/**
 * JSON-like data as a YAML document with the quoting rule of {@link renderYaml}; `undefined`
 * properties are left out.
 *
 * @throws RenderError `RENDER_UNREPRESENTABLE` for a string with an unpaired surrogate.
 */
export function plainToYaml(value: PlainData): string {
  return yamlText(yamlFromPlain(value, []));
}
