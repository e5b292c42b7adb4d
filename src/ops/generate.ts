/**
 * New secret values from the CSPRNG, as `x-sealant-generate` describes them. `randomInt` is
 * unbiased (rejection sampling), so every character of the alphabet is equally likely.
 */
import { randomInt } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { GenerateSpec } from '../plan/model.js';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';

/** The named alphabets; any other string is itself the alphabet (duplicates ignored). */
export const ALPHABETS: Readonly<Record<string, string>> = {
  alphanumeric: UPPER + LOWER + DIGITS,
  hex: `${DIGITS}abcdef`,
  base64url: `${UPPER}${LOWER}${DIGITS}-_`,
  // Printable ASCII without space: a value that starts or ends with a space is a trap in YAML and dotenv.
  'ascii-printable': Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join(''),
};

/**
 * A new random value.
 * @throws UsageError when the alphabet has fewer than two characters or the length is not 1–4096.
 */
export function generateValue(spec: GenerateSpec): string {
  const chars = [...new Set(ALPHABETS[spec.alphabet] ?? spec.alphabet)];
  if (chars.length < 2) throw new UsageError('x-sealant-generate: the alphabet needs at least two characters');
  if (!Number.isInteger(spec.length) || spec.length < 1 || spec.length > 4096)
    throw new UsageError('x-sealant-generate: length must be 1 to 4096');
  let out = '';
  for (let i = 0; i < spec.length; i++) out += chars[randomInt(chars.length)];
  return out;
}
