/**
 * The scale pyramid of stage 1: the `scales` loop at the top of facenet's
 * detect_face() (detect_face.py, "create scale pyramid"), the level sizes of its
 * first-stage loop (`hs=int(np.ceil(h*scale))`), and bulk_detect_face()'s rule
 * for deriving minsize from a ratio.
 *
 * The one place where the port deliberately departs from "whatever numpy did":
 * `np.power(factor, factor_count)` is not correctly rounded on every numpy build
 * (nor is JavaScript's Math.pow / `**`), and one ulp of a scale can move
 * `ceil(h*scale)` by a pixel. The goldens pin `factor**k` to the correctly
 * rounded value (../shared/mtcnn/README.md, "Two results pinned down"), so it is
 * computed here exactly, with BigInt, and rounded once.
 * @module
 */

/**
 * P-Net's input window: a face of `minsize` pixels is scaled to 12 x 12
 * (detect_face: `m=12.0/minsize`, `while minl>=12`).
 */
const PNET_WINDOW = 12;

/**
 * The pyramid's scales, as detect_face() builds them:
 *
 *     minl = np.amin([h, w]); m = 12.0/minsize; minl = minl*m
 *     while minl >= 12: scales += [m*np.power(factor, factor_count)]; minl = minl*factor; ...
 *
 * with `factor**k` correctly rounded. Every operation is the reference's
 * float64 operation in its order, so the scales are bit-identical.
 *
 * The caller validates the options (0 < factor < 1, minsize > 0): with
 * `factor >= 1`, or `minsize = 0` (m = Infinity), `minl` never drops below 12
 * and this loop, like the reference's, never ends (README: "`factor >= 1`
 * never ends the pyramid loop").
 */
export function computeScales(h: number, w: number, minsize: number, factor: number): number[] {
  const m = PNET_WINDOW / minsize;
  let minl = Math.min(h, w) * m;
  const scales: number[] = [];
  for (let k = 0; minl >= PNET_WINDOW; k++) {
    scales.push(m * correctlyRoundedPow(factor, k));
    minl = minl * factor;
  }
  return scales;
}

/** The size of one pyramid level, `[hs, ws] = [int(np.ceil(h*scale)), int(np.ceil(w*scale))]`. */
export function levelSize(h: number, w: number, scale: number): [number, number] {
  return [Math.ceil(h * scale), Math.ceil(w * scale)];
}

/**
 * bulk_detect_face()'s minsize: a fraction of the image's smaller side,
 * `minsize = int(detection_window_size_ratio * np.minimum(w, h))` (int()
 * truncates toward zero), and never below P-Net's 12-pixel window
 * (`if minsize <= 12: minsize = 12`).
 */
export function bulkMinsize(h: number, w: number, detectionWindowSizeRatio: number): number {
  const minsize = Math.trunc(detectionWindowSizeRatio * Math.min(w, h));
  return minsize <= PNET_WINDOW ? PNET_WINDOW : minsize;
}

/** float64 layout: 1 sign bit, 11 exponent bits (bias 1023), 52 fraction bits. */
const FRACTION_BITS = 52;
const EXPONENT_BIAS = 1023;
/** Exponent of the last bit of a float64 significand: x = M * 2^(e - 1075) for a normal x. */
const SIGNIFICAND_SHIFT = EXPONENT_BIAS + FRACTION_BITS;
/** The smallest normal exponent and the exponent of the smallest subnormal's only bit. */
const MIN_NORMAL_EXP = -1022;
const MIN_SUBNORMAL_EXP = -1074;
/** Significant bits of a float64, the hidden one included. */
const PRECISION = 53;

/**
 * `x**k` for a finite float64 `x` and a whole `k >= 0`, correctly rounded:
 * the exact rational power, rounded once to the nearest float64 (ties to
 * even), like Python's `float(Fraction(x) ** k)` that made the goldens.
 *
 * A finite double is an integer times a power of two, `x = M * 2^E`, so
 * `x**k = M**k * 2^(E*k)` exactly; BigInt holds `M**k`, and rounding it to 53
 * significant bits (fewer below the normal range) is the one rounding.
 */
export function correctlyRoundedPow(x: number, k: number): number {
  if (k === 0) return 1; // np.power(x, 0) is 1 for every x
  if (x === 0) return k % 2 === 1 ? x : 0; // (+-0)**k keeps the sign for odd k

  // Split x into sign, integer significand M and exponent E: |x| = M * 2^E.
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  // A subnormal (biased exponent 0) has no hidden leading bit.
  const significand = biased === 0 ? fraction : fraction | (1n << BigInt(FRACTION_BITS));
  const exponent = (biased === 0 ? 1 : biased) - SIGNIFICAND_SHIFT;
  const negative = x < 0 && k % 2 === 1;

  // The exact power P * 2^pe, P an integer of `bits` bits.
  const P = significand ** BigInt(k);
  const pe = exponent * k;
  const bits = P.toString(2).length;

  // How many low bits of P the nearest double cannot hold: all but the top 53,
  // or more where the result falls below the normal range (its last bit can be
  // no finer than 2^-1074).
  const drop = Math.max(bits - PRECISION, MIN_SUBNORMAL_EXP - pe);
  let q = P;
  if (drop > 0) {
    const d = BigInt(drop);
    q = P >> d;
    const rest = P - (q << d);
    const half = 1n << (d - 1n);
    if (rest > half || (rest === half && (q & 1n) === 1n)) q += 1n; // to nearest, ties to even
  }
  // q has at most 53 bits (54 only as the exact power of two 2^53 after a
  // carry), so Number(q) is exact and so is its scaling by a power of two,
  // unless the result overflows, which then correctly gives Infinity.
  const result = scaleByPowerOfTwo(Number(q), pe + Math.max(drop, 0));
  return negative ? -result : result;
}

/**
 * `v * 2^e` for an integer `v` when the result is a double (or overflows);
 * 2^e is built from its bits, never approximated.
 */
function scaleByPowerOfTwo(v: number, e: number): number {
  if (e < MIN_NORMAL_EXP) {
    // Two steps: 2^e itself may be subnormal or zero; v * 2^-1022 is exact and
    // normal, and the second step lands exactly on the (subnormal) result.
    return v * powerOfTwo(MIN_NORMAL_EXP) * powerOfTwo(e - MIN_NORMAL_EXP);
  }
  return e > EXPONENT_BIAS ? v * Infinity : v * powerOfTwo(e);
}

/** 2^e for a normal exponent, -1022 <= e <= 1023. */
function powerOfTwo(e: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, (e + EXPONENT_BIAS) << 20);
  return view.getFloat64(0);
}
