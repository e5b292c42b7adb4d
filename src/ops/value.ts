/**
 * Values given on the command line (`set FILE PATH VALUE`): JSON, as `sops set` takes them; and
 * replacement values read as text (`apply`), typed like the value they replace.
 */
import { SealantError } from '../errors.js';
import { goTimeText } from '../format/codec.js';
import { fromPlain, scalar, type Node, type ScalarValue, type TreePath } from '../format/tree.js';

/**
 * Parses a JSON value. Integer literals become `int` (exactly, even beyond 2^53), other numbers
 * `float`.
 * @throws SealantError (exit 7, SOPS's ErrorInvalidSetFormat) when the text is not JSON; the
 * message never repeats the text, which may be a secret.
 */
export function parseJsonValue(text: string): Node {
  const t = text.trim();
  if (/^-?\d+$/.test(t)) return scalar({ type: 'int', value: BigInt(t) });
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t)) return scalar({ type: 'float', value: Number(t) });
  try {
    return fromPlain(JSON.parse(t) as unknown);
  } catch {
    throw new SealantError('INVALID_SET_VALUE', 'the value is not valid JSON', {
      hint: 'strings need JSON quotes: sealant set FILE \'["key"]\' \'"text"\' (or use --string / --value-stdin)',
    });
  }
}

/** A value taken literally as a string (`--string`). */
export function stringValue(text: string): Node {
  return scalar({ type: 'str', value: text });
}

/** The scalar types a new value can take (a `null` leaf, and binary content, take a string). */
type NewValueType = Exclude<ScalarValue['type'], 'null' | 'bytes'>;

/** JSON Schema `type` names and the scalar types that satisfy them (`number` holds ints too). */
const SCHEMA_TYPES: Readonly<Record<string, readonly NewValueType[]>> = {
  string: ['str', 'time'],
  integer: ['int'],
  number: ['int', 'float'],
  boolean: ['bool'],
};

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

const TYPE_NAMES: Readonly<Record<NewValueType, string>> = {
  str: 'a string',
  int: 'an integer',
  float: 'a number',
  bool: 'a boolean (true/false)',
  time: 'a timestamp',
};

/** `text` as a scalar of `type`, read as SOPS's YAML resolver would read it; undefined when it is not one. */
function asType(text: string, type: NewValueType): ScalarValue | undefined {
  switch (type) {
    case 'str':
      return { type: 'str', value: text };
    case 'int': {
      if (!/^[+-]?\d+$/.test(text)) return undefined;
      const value = BigInt(text);
      return value < INT64.min || value > INT64.max ? undefined : { type: 'int', value };
    }
    case 'float': {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
      const value = Number(text);
      return Number.isFinite(value) ? { type: 'float', value } : undefined;
    }
    case 'bool':
      if (/^(true|True|TRUE)$/.test(text)) return { type: 'bool', value: true };
      return /^(false|False|FALSE)$/.test(text) ? { type: 'bool', value: false } : undefined;
    case 'time': {
      const value = goTimeText(text);
      return value === undefined ? undefined : { type: 'time', value };
    }
  }
}

/**
 * A replacement value read as text (a file, stdin, a prompt, a generator) as a scalar of the
 * type the key has: the type the schema's `type` names (the current type first when the schema
 * allows it), else the current type. A value read from a file is text, but `port: 5432`
 * must stay an int, not become `port: "5433"`.
 * @param current - the decrypted value being replaced (undefined for a new key).
 * @param schemaTypes - the schema's `type` at the key, if it says.
 * @throws SealantError (exit 7, INVALID_SET_VALUE) naming the key path, never the value, when
 * the text is none of those types.
 */
export function typedReplacement(
  text: string,
  path: TreePath,
  current: ScalarValue | undefined,
  schemaTypes?: readonly string[],
): ScalarValue {
  const have: NewValueType =
    current === undefined || current.type === 'null' || current.type === 'bytes' ? 'str' : current.type;
  const allowed = [...new Set((schemaTypes ?? []).flatMap((t) => SCHEMA_TYPES[t] ?? []))];
  const order =
    allowed.length === 0 ? [have] : allowed.includes(have) ? [have, ...allowed.filter((t) => t !== have)] : allowed;
  for (const t of order) {
    const v = asType(text, t);
    if (v !== undefined) return v;
  }
  const wanted =
    allowed.length === 0
      ? `${TYPE_NAMES[have]}, the key's current type`
      : `of the schema's type (${(schemaTypes ?? []).join(' or ')})`;
  throw new SealantError('INVALID_SET_VALUE', `the new value is not ${wanted}`, {
    path,
    hint: 'the value keeps the type of the key; write it as that type (an int as decimal digits, a bool as true/false)',
  });
}
