/**
 * Go's float formatting, which SOPS output depends on in two places:
 * - the plaintext bytes of a `type:float` value are `strconv.FormatFloat(v, 'f', -1, 64)`
 *   (`aes/cipher.go`), so the MAC and the ciphertext depend on it;
 * - the JSON store writes floats with `json.Marshal`, which switches to exponent form for very
 *   large and very small magnitudes.
 */

/**
 * Shortest round-trip decimal digits and decimal exponent of a finite, non-zero `n`:
 * `n = 0.d1d2d3… × 10^(exp+1)`, i.e. the first digit has weight `10^exp`.
 * JavaScript's `toExponential()` without an argument gives the shortest digits that round-trip,
 * like Go's `-1` precision.
 */
function shortestDigits(n: number): { digits: string; exp: number } {
  const [mantissa = '', exponent = '0'] = Math.abs(n).toExponential().split('e');
  return { digits: mantissa.replace('.', ''), exp: Number(exponent) };
}

/**
 * `strconv.FormatFloat(n, 'f', -1, 64)`: shortest digits that round-trip, never an exponent,
 * no trailing `.0`; `-0` keeps its sign; `+Inf`, `-Inf`, `NaN` for the non-finite values.
 *
 * @example formatGoFloat(1e21) === '1000000000000000000000'; formatGoFloat(1e-7) === '0.0000001'
 */
export function formatGoFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  const sign = n < 0 || Object.is(n, -0) ? '-' : '';
  if (n === 0) return `${sign}0`;
  const { digits, exp } = shortestDigits(n);
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (exp >= digits.length - 1) return `${sign}${digits}${'0'.repeat(exp - digits.length + 1)}`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/**
 * `strconv.FormatFloat(n, 'G', -1, 64)`: shortest digits that round-trip, in exponent form
 * (`1.5E+07`, at least two exponent digits) when the decimal exponent is below -4 or at least 6,
 * otherwise plain decimals without trailing zeros; `+Inf`, `-Inf`, `NaN`.
 *
 * @example formatGoFloatG(1e20) === '1E+20'; formatGoFloatG(123456) === '123456'; formatGoFloatG(1e-5) === '1E-05'
 */
export function formatGoFloatG(n: number): string {
  if (!Number.isFinite(n) || n === 0) return formatGoFloat(n);
  const { digits, exp } = shortestDigits(n);
  // Go switches to %E at these exponents when the precision is the shortest (-1).
  if (exp >= -4 && exp < 6) return formatGoFloat(n);
  const sign = n < 0 ? '-' : '';
  const mantissa = digits.length > 1 ? `${digits[0] ?? ''}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp).toString().padStart(2, '0');
  return `${sign}${mantissa}E${exp < 0 ? '-' : '+'}${e}`;
}

/**
 * A float as Go's `json.Marshal` writes it: `'f'` form for 1e-6 ≤ |n| < 1e21, otherwise
 * exponent form with the exponent's leading zero removed (`1e-7`, `1e+21`). That is exactly
 * ECMAScript's `Number#toString`, except that Go keeps the sign of `-0`.
 *
 * @throws RangeError for NaN and ±Infinity, which JSON cannot represent (Go's
 * `json.UnsupportedValueError`).
 */
export function formatGoJsonFloat(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError('JSON cannot represent a non-finite number');
  return Object.is(n, -0) ? '-0' : String(n);
}
