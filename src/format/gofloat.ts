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
