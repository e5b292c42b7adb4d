/**
 * YAML scalar typing and scalar emission, matched to go-yaml v3 (`resolve.go`, `encode.go`,
 * the YAML library SOPS uses) rather than to the YAML 1.2 core schema of the `yaml` package:
 * go-yaml reads `0755` as an octal int, `2024-01-01` as a timestamp and `yes` as a string, and
 * SOPS encrypts each leaf with the type go-yaml gave it (the type ends up inside `ENC[…,type:…]`
 * and in the MAC), so a reader that types differently computes a different MAC.
 *
 * The reading half (`resolvePlain`, `resolveTagged`) turns scalar text into a {@link ScalarValue};
 * the writing half (`canBePlain`, `formatScalar`…) decides how a value must be written so that
 * go-yaml — and other YAML readers — read back the same value.
 */
import { formatGoFloat } from '../format/gofloat.js';
import { notText, type ScalarStyle, type ScalarValue } from '../format/tree.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Raised by {@link resolveTagged} when an explicit tag does not fit the text; the store adds file and line. */
export class TagMismatchError extends Error {
  constructor(readonly tag: string) {
    super(`the value cannot be read as ${tag}`);
    this.name = 'TagMismatchError';
  }
}

// go-yaml's `resolveMap`: exact spellings only (no `yes`/`on`, no `TrUe`).
const SPECIAL: ReadonlyMap<string, ScalarValue> = new Map<string, ScalarValue>([
  ...['true', 'True', 'TRUE'].map((s): [string, ScalarValue] => [s, { type: 'bool', value: true }]),
  ...['false', 'False', 'FALSE'].map((s): [string, ScalarValue] => [s, { type: 'bool', value: false }]),
  ...['', '~', 'null', 'Null', 'NULL'].map((s): [string, ScalarValue] => [s, { type: 'null' }]),
  ...['.nan', '.NaN', '.NAN'].map((s): [string, ScalarValue] => [s, { type: 'float', value: Number.NaN }]),
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map((s): [string, ScalarValue] => [
    s,
    { type: 'float', value: Number.POSITIVE_INFINITY },
  ]),
  ...['-.inf', '-.Inf', '-.INF'].map((s): [string, ScalarValue] => [
    s,
    { type: 'float', value: Number.NEGATIVE_INFINITY },
  ]),
]);

/** go-yaml's `resolveTable` hint for the first character ('' = no hint: always a string). */
function hintOf(s: string): '' | 'S' | 'D' | 'M' | '.' | 'N' {
  if (s === '') return 'N';
  const c = s[0] as string;
  if (c === '+' || c === '-') return 'S';
  if (c >= '0' && c <= '9') return 'D';
  if ('yYnNtTfFoO~'.includes(c)) return 'M';
  if (c === '.') return '.';
  return '';
}

/**
 * Go `strconv.ParseInt(s, 0, 64)` / `ParseUint(s, 0, 64)`: optional sign (signed only), base
 * prefix `0x`/`0o`/`0b` (any case) or a leading `0` for octal, digits of that base. Returns
 * undefined when the text is not an integer of that shape or is out of range.
 */
function goParseInt(s: string, signed: boolean): bigint | undefined {
  const sign = signed && (s.startsWith('+') || s.startsWith('-')) ? (s[0] as string) : '';
  let rest = s.slice(sign.length);
  let base = 10;
  if (rest.length > 1 && rest[0] === '0') {
    const p = (rest[1] as string).toLowerCase();
    if (p === 'x' || p === 'o' || p === 'b') {
      base = p === 'x' ? 16 : p === 'o' ? 8 : 2;
      rest = rest.slice(2);
    } else {
      base = 8;
      rest = rest.slice(1);
    }
  }
  // A sign may only come before the base prefix ("0x-5" is not an integer).
  if (rest.startsWith('+') || rest.startsWith('-')) return undefined;
  return goParseIntBase(sign + rest, base, signed);
}

/** Go `strconv.ParseInt(s, base, 64)` (sign allowed) or `ParseUint(s, base, 64)` for an explicit base. */
function goParseIntBase(s: string, base: number, signed: boolean): bigint | undefined {
  let rest = s;
  let negative = false;
  if (signed && (rest.startsWith('+') || rest.startsWith('-'))) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  const magnitude = parseDigits(rest, base);
  if (magnitude === undefined) return undefined;
  const value = negative ? -magnitude : magnitude;
  if (signed ? value < INT64_MIN || value > INT64_MAX : value > UINT64_MAX) return undefined;
  return value;
}

function parseDigits(digits: string, base: number): bigint | undefined {
  if (digits === '') return undefined;
  const valid = base === 16 ? /^[0-9a-fA-F]+$/ : base === 10 ? /^[0-9]+$/ : base === 8 ? /^[0-7]+$/ : /^[01]+$/;
  if (!valid.test(digits)) return undefined;
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
  return BigInt(prefix + digits);
}

// go-yaml's yamlStyleFloat, checked before strconv.ParseFloat.
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** Go `strconv.ParseFloat` on text already known to be decimal: out of range (→ ±Inf) is an error. */
function goParseDecimalFloat(s: string): number | undefined {
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

function intValue(v: bigint): ScalarValue {
  // A value above int64 only fits Go's uint64, which SOPS cannot encrypt; we read it as a float
  // (the nearest double) so the tree stays within the types SOPS supports.
  return v > INT64_MAX ? { type: 'float', value: Number(v) } : { type: 'int', value: v };
}

/** Resolution of text with hint D or S: timestamp (if allowed), int, uint, float, `0b`/`0o` oddities. */
function resolveNumeric(s: string, allowTimestamp: boolean): ScalarValue | undefined {
  if (allowTimestamp && isGoTimestamp(s)) return { type: 'time', value: s };
  const plain = s.replaceAll('_', '');
  const signed = goParseInt(plain, true);
  if (signed !== undefined) return intValue(signed);
  const unsigned = goParseInt(plain, false);
  if (unsigned !== undefined) return intValue(unsigned);
  if (YAML_STYLE_FLOAT.test(plain)) {
    const f = goParseDecimalFloat(plain);
    if (f !== undefined) return { type: 'float', value: f };
  }
  // go-yaml retries `0b…`/`0o…` with the prefix stripped, which also accepts a sign after the
  // prefix (`0b-101` → -5). Odd, but it is what SOPS reads.
  for (const [prefix, base] of [
    ['0b', 2],
    ['0o', 8],
  ] as const) {
    let v: bigint | undefined;
    if (plain.startsWith(prefix))
      v = goParseIntBase(plain.slice(2), base, true) ?? goParseIntBase(plain.slice(2), base, false);
    else if (plain.startsWith(`-${prefix}`)) v = goParseIntBase(`-${plain.slice(3)}`, base, true);
    if (v !== undefined) return intValue(v);
  }
  return undefined;
}

/**
 * The value go-yaml v3 gives a plain (unquoted, untagged) scalar whose text is `s` (after line
 * folding). Timestamps keep their text (type `time`); ints are bigints; an int above int64 is
 * read as a float. Never throws: anything unrecognised is a string.
 */
export function resolvePlain(s: string): ScalarValue {
  return resolveWithTag('', s);
}

function resolveWithTag(tag: '' | '!!timestamp' | '!!int' | '!!float' | '!!bool' | '!!null', s: string): ScalarValue {
  const hint = hintOf(s);
  if (hint === '') return { type: 'str', value: s };
  const special = SPECIAL.get(s);
  if (special !== undefined) return special;
  if (hint === '.') {
    if (/^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(s)) {
      const f = goParseDecimalFloat(s);
      if (f !== undefined) return { type: 'float', value: f };
    }
  } else if (hint === 'D' || hint === 'S') {
    const v = resolveNumeric(s, tag === '' || tag === '!!timestamp');
    if (v !== undefined) return v;
  }
  return { type: 'str', value: s };
}

/** Short form (`!!int`) of a tag as written (`!!int`, `!<tag:yaml.org,2002:int>`), or the tag itself. */
export function shortTag(tag: string): string {
  const verbatim = /^!<tag:yaml\.org,2002:(.*)>$/.exec(tag);
  if (verbatim !== null) return `!!${verbatim[1] ?? ''}`;
  return tag;
}

/**
 * The value of a scalar with an explicit tag (any quoting style), as go-yaml resolves it:
 * `!!str` keeps the text, `!!binary` is base64-decoded to a UTF-8 string, `!!int`/`!!float`/
 * `!!bool`/`!!null`/`!!timestamp` must match the text (`!!float` also accepts an int), other
 * tags (custom `!foo`, the non-specific `!`) keep the text as a string.
 * @throws TagMismatchError when the text does not fit the tag (go-yaml: "cannot decode …").
 */
export function resolveTagged(tag: string, s: string): ScalarValue {
  const t = shortTag(tag);
  switch (t) {
    case '!!str':
      return { type: 'str', value: s };
    case '!!binary':
      return { type: 'str', value: decodeBinary(s) };
    case '!!int':
    case '!!float':
    case '!!bool':
    case '!!null':
    case '!!timestamp': {
      const v = resolveWithTag(t, s);
      const want = t.slice(2) === 'timestamp' ? 'time' : t.slice(2);
      if (v.type === want) return v;
      if (t === '!!float' && v.type === 'int') return { type: 'float', value: Number(v.value) };
      throw new TagMismatchError(t);
    }
    case '!!map':
    case '!!seq':
    case '!!omap':
    case '!!pairs':
    case '!!set':
    case '!!merge':
      throw new TagMismatchError(t);
    default:
      return { type: 'str', value: s };
  }
}

function decodeBinary(s: string): string {
  // Go's base64.StdEncoding ignores \r and \n (so folded/literal base64 works) and nothing else.
  const compact = s.replace(/[\r\n]/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(compact))
    throw new TagMismatchError('!!binary');
  return Buffer.from(compact, 'base64').toString('utf8');
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const max = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  return day <= max;
}

// The four layouts go-yaml tries with Go's time.Parse: `2006-1-2T15:4:5.999999999Z07:00`, the
// same with a lower-case `t`, `2006-1-2 15:4:5.999999999` and `2006-1-2`. Go's `1`, `2`, `15`,
// `4`, `5` accept one or two digits; the fraction accepts `.` or `,` and any number of digits.
const TS_DATE = /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$/;
const TS_ZONED =
  /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[Tt]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?(Z|[+-]([0-9]{2}):([0-9]{2}))$/;
const TS_SPACED = /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2}) ([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?$/;

/** Whether go-yaml reads `s` (plain) as a timestamp. */
export function isGoTimestamp(s: string): boolean {
  const date = TS_DATE.exec(s);
  if (date !== null) return validDate(Number(date[1]), Number(date[2]), Number(date[3]));
  const m = TS_ZONED.exec(s) ?? TS_SPACED.exec(s);
  if (m === null) return false;
  const [year, month, day, hour, min, sec] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (!validDate(year, month, day) || hour > 23 || min > 59 || sec > 59) return false;
  // Go accepts zone offsets up to 24 hours / 60 minutes (its range check uses `>`).
  if (m[8] !== undefined && (Number(m[8]) > 24 || Number(m[9]) > 60)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Emission

/** Where a scalar is written: a block value, inside a flow collection, or as an implicit key. */
export type ScalarContext = 'block' | 'flow' | 'key' | 'flow-key';

// go-yaml's encoder quotes YAML 1.1 booleans and base-60 floats so older readers agree.
const OLD_BOOLS = new Set([
  'y',
  'Y',
  'yes',
  'Yes',
  'YES',
  'on',
  'On',
  'ON',
  'n',
  'N',
  'no',
  'No',
  'NO',
  'off',
  'Off',
  'OFF',
]);
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;

/** Characters that must never appear raw outside double quotes (controls, DEL, C1, BOM, line separators, lone surrogates). */
const NON_PRINTABLE =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether `s` can be written without double quotes (no control characters etc.). Tabs, newlines and CR are tested separately. */
export function isPrintable(s: string): boolean {
  return !NON_PRINTABLE.test(s);
}

/**
 * Whether `s` can be written as a plain scalar in `context` and read back, by go-yaml and by
 * YAML 1.1/1.2 readers, as exactly the string `s`.
 */
export function canBePlain(s: string, context: ScalarContext = 'block'): boolean {
  // Some YAML 1.1 readers refuse `:` and `#` anywhere in a plain scalar inside `[...]`/`{...}`.
  if ((context === 'flow' || context === 'flow-key') && /[:#]/.test(s)) return false;
  if (!goReadsPlain(s, context)) return false;
  if (OLD_BOOLS.has(s) || BASE60_FLOAT.test(s)) return false;
  // Timestamp-looking text other readers (YAML 1.1) may take as a date even when go-yaml does not.
  return !/^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:$|[Tt \t])/.test(s);
}

/**
 * Whether go-yaml reads `s`, written as a plain scalar in `context`, back as exactly the string
 * `s`. Unlike {@link canBePlain} this allows text that only YAML 1.1 readers take for another
 * type or refuse (`yes`, `y`, `1:20`): right when the text was written plain in the first place.
 */
export function goReadsPlain(s: string, context: ScalarContext = 'block'): boolean {
  if (s === '' || !isPrintable(s) || /[\n\r\t]/.test(s)) return false;
  if (s !== s.trim()) return false;
  const first = s[0] as string;
  if ('!&*|>\'"%@`#,[]{}'.includes(first)) return false;
  if ('-?:'.includes(first) && (s.length === 1 || s[1] === ' ')) return false;
  if (s.startsWith('---') || s.startsWith('...')) return false;
  if (s.includes(': ') || s.endsWith(':') || s.includes(' #')) return false;
  const flow = context === 'flow' || context === 'flow-key';
  if (flow && (/[,[\]{}]/.test(s) || /:[,[\]{}]/.test(s))) return false;
  if ((context === 'key' || context === 'flow-key') && (s.length > 1000 || s.includes('?'))) return false;
  if (s === '<<') return false;
  return resolvePlain(s).type === 'str';
}

/**
 * True when the string `s`, written as a plain scalar, would not be read back by go-yaml as the
 * same string (it resolves to another type, or is not a valid plain scalar), so the emitter
 * must quote it.
 */
export function plainWouldChangeType(s: string): boolean {
  return !canBePlain(s, 'block');
}

const ESCAPES: Record<string, string> = {
  '\0': '\\0',
  '\u0007': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\u000b': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '\u001b': '\\e',
  '"': '\\"',
  '\\': '\\\\',
  '\u0085': '\\N',
  '\u2028': '\\L',
  '\u2029': '\\P',
};

/** `s` as a YAML double-quoted scalar on one line (escapes for quotes, backslashes, controls, line breaks). */
export function doubleQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const esc = ESCAPES[ch];
    if (esc !== undefined) out += esc;
    else if (NON_PRINTABLE.test(ch)) {
      const code = ch.codePointAt(0) as number;
      out +=
        code <= 0xff
          ? `\\x${code.toString(16).padStart(2, '0').toUpperCase()}`
          : `\\u${code.toString(16).padStart(4, '0').toUpperCase()}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** `s` as a single-quoted scalar, or undefined when single quotes cannot hold it on one line. */
export function singleQuote(s: string): string | undefined {
  if (!isPrintable(s) || /[\n\r\t]/.test(s)) return undefined;
  return `'${s.replaceAll("'", "''")}'`;
}

/**
 * A float as a YAML plain scalar that go-yaml reads back as the same float: Go 'f' digits, with
 * `.0` added when the digits alone would read as an int; `.inf`, `-.inf`, `.nan`.
 */
export function formatYamlFloat(v: number): string {
  if (Number.isNaN(v)) return '.nan';
  if (v === Number.POSITIVE_INFINITY) return '.inf';
  if (v === Number.NEGATIVE_INFINITY) return '-.inf';
  const s = formatGoFloat(v);
  return s.includes('.') ? s : `${s}.0`;
}

/** A scalar written as text: on one line (`flow`) or as a block scalar header plus content lines. */
export type EmittedScalar =
  { kind: 'flow'; text: string; style: ScalarStyle } | { kind: 'block'; header: string; lines: string[] };

/** A block scalar's chomping indicator: `-` strip, none clip, `+` keep. */
export type Chomp = 'strip' | 'clip' | 'keep';

export interface EmitOptions {
  /** Preferred style (the node's or the replaced scalar's). */
  style?: ScalarStyle | undefined;
  context: ScalarContext;
  /** Block scalars allowed (false in flow context and for keys). */
  allowBlock: boolean;
  /** `|+` allowed: only where the line after the scalar is known not to be blank. */
  allowKeep: boolean;
  /** Preferred chomping of a block scalar, used where the value allows it. */
  chomp?: Chomp | undefined;
  /** The scalar ends the file and no line break follows it (go-yaml then reads `|` as `|-`). */
  atEnd?: boolean | undefined;
  /** The style is how this very text was written: a block style holds one line too. */
  keepStyle?: boolean | undefined;
}

/**
 * How to write `v`: keeps `style` when that style can hold the value (quoted styles only hold
 * strings), otherwise: multi-line strings as literal blocks, strings that are not safe plain as
 * double-quoted, numbers in Go formatting, `true`/`false`, `null`, timestamps plain.
 */
export function emitScalar(v: ScalarValue, opts: EmitOptions): EmittedScalar {
  switch (v.type) {
    case 'null':
      return { kind: 'flow', text: 'null', style: 'plain' };
    case 'bool':
      return { kind: 'flow', text: v.value ? 'true' : 'false', style: 'plain' };
    case 'int':
      return { kind: 'flow', text: v.value.toString(), style: 'plain' };
    case 'float':
      return { kind: 'flow', text: formatYamlFloat(v.value), style: 'plain' };
    case 'time':
      return isGoTimestamp(v.value)
        ? { kind: 'flow', text: v.value, style: 'plain' }
        : { kind: 'flow', text: `!!timestamp ${doubleQuote(v.value)}`, style: 'double' };
    case 'str':
      return emitString(v.value, opts);
    case 'bytes':
      throw notText();
  }
}

function emitString(s: string, opts: EmitOptions): EmittedScalar {
  if (opts.style === 'double') return { kind: 'flow', text: doubleQuote(s), style: 'double' };
  if (opts.style === 'single') {
    const q = singleQuote(s);
    if (q !== undefined) return { kind: 'flow', text: q, style: 'single' };
  }
  const blockStyle = opts.keepStyle === true && (opts.style === 'literal' || opts.style === 'folded');
  if ((s.includes('\n') || blockStyle) && opts.allowBlock) {
    const block = (opts.style === 'folded' ? foldedBlock(s, opts) : undefined) ?? literalBlock(s, opts);
    if (block !== undefined) return block;
  }
  if (canBePlain(s, opts.context)) return { kind: 'flow', text: s, style: 'plain' };
  return { kind: 'flow', text: doubleQuote(s), style: 'double' };
}

/** Line breaks at the end of `s`. */
export function trailingBreaks(s: string): number {
  return /\n*$/.exec(s)?.[0].length ?? 0;
}

/**
 * The chomping a block scalar holding `s` needs: `-` without a final line break, none with one,
 * `+` with more. A value without one that ends the file reads the same with any of the three
 * (go-yaml adds no break that is not there): `preferred` then, else clip, as people write it.
 */
export function chompFor(s: string, opts: Pick<EmitOptions, 'atEnd' | 'chomp' | 'allowKeep'>): Chomp | undefined {
  const trailing = trailingBreaks(s);
  if (trailing === 0) return opts.atEnd === true ? (opts.chomp ?? 'clip') : 'strip';
  if (trailing === 1) return opts.chomp === 'keep' && opts.allowKeep ? 'keep' : 'clip';
  return opts.allowKeep ? 'keep' : undefined;
}

const CHOMP_INDICATOR: Record<Chomp, string> = { strip: '-', clip: '', keep: '+' };

/** `s` as a literal block (`|`, `|-`, `|+`), or undefined when a literal block cannot hold it exactly. */
function literalBlock(s: string, opts: EmitOptions): EmittedScalar | undefined {
  if (!isPrintable(s) || s.includes('\r')) return undefined;
  const trailing = trailingBreaks(s);
  if (trailing === s.length) return undefined; // only line breaks: nothing for the indentation to hang on
  const chomp = chompFor(s, opts);
  if (chomp === undefined) return undefined;
  const body = trailing === 0 ? s : s.slice(0, -1);
  const lines = body.split('\n');
  // A first content line starting with white space would need an indentation indicator; a
  // double-quoted scalar is simpler and reads back the same everywhere.
  const firstContent = lines.find((l) => l !== '');
  if (firstContent !== undefined && /^[ \t]/.test(firstContent)) return undefined;
  return { kind: 'block', header: `|${CHOMP_INDICATOR[chomp]}`, lines };
}

/**
 * `s` as a folded block (`>`), each paragraph on one line (a single line break in the value
 * is written as an empty line), or undefined when folding would change it: a line that starts
 * with white space keeps its line breaks, so folded text cannot hold such a value this way.
 */
function foldedBlock(s: string, opts: EmitOptions): EmittedScalar | undefined {
  if (!isPrintable(s) || s.includes('\r') || s.includes('\t')) return undefined;
  const trailing = trailingBreaks(s);
  if (trailing === s.length) return undefined;
  const chomp = chompFor(s, opts);
  if (chomp === undefined) return undefined;
  const body = s.slice(0, s.length - trailing);
  const lines: string[] = [];
  for (const part of body.split(/(\n+)/)) {
    if (part.startsWith('\n')) lines.push(...part.split('').map(() => ''));
    else if (part !== '') lines.push(part);
  }
  if (lines.some((l) => l.startsWith(' ')) || lines[0] === '') return undefined;
  // Trailing breaks beyond the first are kept as empty lines (`>+`), as in a literal block.
  for (let i = 1; i < trailing; i += 1) lines.push('');
  return { kind: 'block', header: `>${CHOMP_INDICATOR[chomp]}`, lines };
}
