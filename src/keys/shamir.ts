/**
 * Shamir secret sharing over GF(2^8) with the AES polynomial x^8+x^4+x^3+x+1, byte-compatible
 * with SOPS (`shamir/shamir.go`, from HashiCorp Vault): a share is the y-bytes followed by one
 * x byte. We give group i the x coordinate i+1; recent sops picks them at random. Either way the
 * x travels in the share, so shares from any writer combine.
 */
import { randomBytes } from 'node:crypto';

/**
 * Product in GF(2^8), without a branch or table lookup that depends on `a` or `b`: shares and
 * key bytes pass through here, and sops made this arithmetic constant-time for that reason.
 * Each step doubles the accumulator (reducing by 0x1B when its top bit falls out) and adds `a`
 * under a mask that is all ones exactly when the current bit of `b` is set.
 */
export function mul(a: number, b: number): number {
  let r = 0;
  for (let bit = 7; bit >= 0; bit--) {
    r = (((r << 1) & 0xff) ^ (-(r >>> 7) & 0x1b) ^ (-((b >>> bit) & 1) & a)) & 0xff;
  }
  return r;
}

/** Multiplicative inverse, a^254, by a fixed chain of products (0 maps to 0). */
function inverse(a: number): number {
  const a2 = mul(a, a);
  const a3 = mul(a2, a);
  const a6 = mul(a3, a3);
  const a12 = mul(a6, a6);
  const a15 = mul(a12, a3);
  const a24 = mul(a12, a12);
  const a48 = mul(a24, a24);
  const a63 = mul(a48, a15);
  const a126 = mul(a63, a63);
  const a127 = mul(a126, a);
  return mul(a127, a127);
}

/**
 * Quotient in GF(2^8), constant-time in both operands.
 * @throws RangeError when `b` is 0 (divisors are differences of public x coordinates, so this
 * check reveals nothing secret).
 */
export function div(a: number, b: number): number {
  if (b === 0) throw new RangeError('division by zero in GF(2^8)');
  return mul(a, inverse(b));
}

/** Splits `secret` into `parts` shares, any `threshold` of which recover it. */
export function split(secret: Uint8Array, parts: number, threshold: number): Uint8Array[] {
  if (threshold < 2 || parts < threshold || parts > 255) throw new RangeError('invalid Shamir parameters');
  const shares = Array.from({ length: parts }, (_, i) => {
    const s = new Uint8Array(secret.length + 1);
    s[secret.length] = i + 1;
    return s;
  });
  for (let b = 0; b < secret.length; b++) {
    const coeffs = [secret[b]!, ...randomBytes(threshold - 1)];
    for (let i = 0; i < parts; i++) {
      const x = i + 1;
      let y = 0;
      for (let c = coeffs.length - 1; c >= 0; c--) y = mul(y, x) ^ coeffs[c]!;
      shares[i]![b] = y;
    }
  }
  return shares;
}

/**
 * Recovers the secret from shares (Lagrange interpolation at x = 0).
 * @throws RangeError when shares are malformed or share an x coordinate.
 */
export function combine(shares: readonly Uint8Array[]): Uint8Array {
  if (shares.length < 2) throw new RangeError('at least two shares are needed');
  const len = shares[0]!.length - 1;
  const xs = shares.map((s) => {
    if (s.length !== len + 1) throw new RangeError('shares differ in length');
    return s[len]!;
  });
  if (new Set(xs).size !== xs.length) throw new RangeError('duplicate share');
  const out = new Uint8Array(len);
  for (let b = 0; b < len; b++) {
    let acc = 0;
    for (let i = 0; i < shares.length; i++) {
      let basis = 1;
      for (let j = 0; j < shares.length; j++) {
        if (i === j) continue;
        basis = mul(basis, div(xs[j]!, xs[i]! ^ xs[j]!));
      }
      acc ^= mul(shares[i]![b]!, basis);
    }
    out[b] = acc;
  }
  return out;
}
