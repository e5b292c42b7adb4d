/**
 * Values given on the command line (`set FILE PATH VALUE`): JSON, as `sops set` takes them.
 */
import { ExitCode, SealantError } from '../errors.js';
import { fromPlain, scalar, type Node } from '../format/tree.js';

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
    throw new SealantError('INVALID_SET_VALUE', ExitCode.invalidSetFormat, 'the value is not valid JSON', {
      hint: 'strings need JSON quotes: sealant set FILE \'["key"]\' \'"text"\' (or use --string / --value-stdin)',
    });
  }
}

/** A value taken literally as a string (`--string`). */
export function stringValue(text: string): Node {
  return scalar({ type: 'str', value: text });
}

