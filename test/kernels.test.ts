/**
 * The kernels of src/kernels/ in two ways: tiny cases worked out by hand,
 * named by their parameters, and randomised cases against brute force written
 * here straight from the definitions (float64 loops over 4-D indices, SAME
 * padding materialised as a -inf border), which share no code with the
 * kernels beyond shape.ts' sizes.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { conv2d, conv2dNaive, packConv } from '../src/kernels/conv2d.ts';
import { dense, packDense } from '../src/kernels/dense.ts';
import { maxpool } from '../src/kernels/maxpool.ts';
import { prelu } from '../src/kernels/prelu.ts';
import { outSize, samePads, sameOut, validOut, type Padding } from '../src/kernels/shape.ts';
import { softmax } from '../src/kernels/softmax.ts';
import { checkClose, checkEqual } from './helpers/check.ts';
import { rng } from './helpers/random.ts';

/**
 * Brute force (float64) against the kernels' float32 outputs: the random
 * cases below sum at most 60 products of values in [-1, 1], so results stay
 * under 64 in magnitude, where rounding to float32 moves them by at most
 * 2^-24 * 64 = 3.8e-6; an indexing mistake moves a value by 0.1 or more.
 */
const BRUTE_ABS = 1e-5;
/** Softmax of inputs in [-3, 3]: four float32 roundings of values <= 6 in the exponent, ~5e-7 at most. */
const SOFTMAX_ABS = 1e-6;


function randomArray(rand: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}

function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

const f32 = (values: number[]) => Float32Array.from(values);

// ---------------------------------------------------------------- shape

const Shape = suite('kernels/shape');

Shape('VALID: n=5 k=3 s=1 -> 3; n=9 k=3 s=2 -> 4; n=3 k=3 s=2 -> 1', () => {
  assert.is(validOut(5, 3, 1), 3);
  assert.is(validOut(9, 3, 2), 4);
  assert.is(validOut(3, 3, 2), 1);
});

Shape('SAME: n=22 s=2 -> 11; n=23 s=2 -> 12; n=1 s=2 -> 1', () => {
  assert.is(sameOut(22, 2), 11);
  assert.is(sameOut(23, 2), 12);
  assert.is(sameOut(1, 2), 1);
  assert.is(outSize(23, 3, 2, 'SAME'), 12);
  assert.is(outSize(23, 3, 2, 'VALID'), 11);
});

Shape('samePads: even total splits evenly (n=1 k=3 s=2 -> 1,1; n=6 k=3 s=1 -> 1,1)', () => {
  assert.equal(samePads(1, 3, 2), { before: 1, after: 1 });
  assert.equal(samePads(6, 3, 1), { before: 1, after: 1 });
});

Shape('samePads: odd total puts the extra after (n=22 k=3 s=2 -> 0,1; n=7 k=4 s=1 -> 1,2)', () => {
  assert.equal(samePads(22, 3, 2), { before: 0, after: 1 });
  assert.equal(samePads(7, 4, 1), { before: 1, after: 2 });
});

Shape('samePads: no pad when windows fit (n=4 k=2 s=2 -> 0,0; n=8 k=1 s=3 -> 0,0)', () => {
  assert.equal(samePads(4, 2, 2), { before: 0, after: 0 });
  // out 3: (3-1)*3 + 1 - 8 = -1, clamped to 0
  assert.equal(samePads(8, 1, 3), { before: 0, after: 0 });
});

Shape.run();

// ---------------------------------------------------------------- conv2d

/** Brute-force VALID conv in float64: out[b,y,x,o] = bias[o] + sum x[b,y+i,x+j,c] w[i,j,c,o]. */
function bruteConv(
  x: Float32Array, n: number, h: number, w: number, c: number,
  k: Float32Array, bias: Float32Array, kh: number, kw: number, oc: number,
): Float64Array {
  const X = (b: number, y: number, xx: number, ci: number) => x[((b * h + y) * w + xx) * c + ci];
  const K = (i: number, j: number, ci: number, o: number) => k[((i * kw + j) * c + ci) * oc + o];
  const oh = h - kh + 1, ow = w - kw + 1;
  const out = new Float64Array(n * oh * ow * oc);
  let idx = 0;
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++)
        for (let o = 0; o < oc; o++) {
          let s = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++)
              for (let ci = 0; ci < c; ci++) s += X(b, y + i, xx + j, ci) * K(i, j, ci, o);
          out[idx++] = s + bias[o];
        }
  return out;
}

/** conv2d with its weights packed, as the nets call it. */
function conv2dPacked(
  out: Float32Array, x: Float32Array, n: number, h: number, w: number, c: number,
  k: Float32Array, bias: Float32Array, kh: number, kw: number, oc: number,
): void {
  conv2d(out, x, n, h, w, packConv(k, bias, kh, kw, c, oc));
}

const Conv = suite('kernels/conv2d');

Conv('x=[1,1,1] k=1 oc=1: 2 * 3 + 0.5', () => {
  for (const fn of [conv2dNaive, conv2dPacked]) {
    const out = new Float32Array(1);
    fn(out, f32([2]), 1, 1, 1, 1, f32([3]), f32([0.5]), 1, 1, 1);
    assert.equal(Array.from(out), [6.5], fn.name);
  }
});

Conv('x=[3,3,1] k=2 oc=1: kernel [[1,0],[0,1]] sums the diagonal pairs', () => {
  // x = 1..9 row-major; each output is x[y, x] + x[y + 1, x + 1], minus 1 bias.
  for (const fn of [conv2dNaive, conv2dPacked]) {
    const out = new Float32Array(4);
    fn(out, f32([1, 2, 3, 4, 5, 6, 7, 8, 9]), 1, 3, 3, 1, f32([1, 0, 0, 1]), f32([-1]), 2, 2, 1);
    assert.equal(Array.from(out), [5, 7, 11, 13], fn.name);
  }
});

Conv('x=[1,1,2] k=1 oc=5: HWIO weights, channel tail past one block of 4', () => {
  // w[0,0,ci,o]: ci=0 row [1,2,3,4,5], ci=1 row [10,20,30,40,50]; x = [1, 0.5].
  const w = f32([1, 2, 3, 4, 5, 10, 20, 30, 40, 50]);
  const expected = [1 + 5, 2 + 10, 3 + 15, 4 + 20, 5 + 25 + 100];
  for (const fn of [conv2dNaive, conv2dPacked]) {
    const out = new Float32Array(5);
    fn(out, f32([1, 0.5]), 1, 1, 1, 2, w, f32([0, 0, 0, 0, 100]), 1, 1, 5);
    assert.equal(Array.from(out), expected, fn.name);
  }
});

Conv('x=[2,2,4,1] k=1x2 oc=1: batch of 2 and odd OW = 3 (pixels go in pairs)', () => {
  // Kernel [1, -1] along W gives x[y, x] - x[y, x + 1].
  const x = f32([1, 4, 9, 16, 25, 36, 49, 64, /* image 2 */ 0, 1, 0, 1, 1, 0, 1, 0]);
  for (const fn of [conv2dNaive, conv2dPacked]) {
    const out = new Float32Array(2 * 2 * 3);
    fn(out, x, 2, 2, 4, 1, f32([1, -1]), f32([0]), 1, 2, 1);
    assert.equal(Array.from(out), [-3, -5, -7, -11, -13, -15, -1, 1, -1, 1, -1, 1], fn.name);
  }
});

Conv('random shapes: conv2dNaive = brute force, conv2d = conv2dNaive bit for bit', () => {
  const rand = rng(20240601);
  for (let trial = 0; trial < 60; trial++) {
    const n = randInt(rand, 1, 2);
    const kh = randInt(rand, 1, 3), kw = randInt(rand, 1, 3);
    const h = kh + randInt(rand, 0, 5), w = kw + randInt(rand, 0, 5); // OH, OW in 1..6: odd and even
    const c = randInt(rand, 1, 6), oc = randInt(rand, 1, 9); // OC tails of every size
    const label = `x=[${n},${h},${w},${c}] k=${kh}x${kw} oc=${oc}`;
    const x = randomArray(rand, n * h * w * c);
    const k = randomArray(rand, kh * kw * c * oc);
    const bias = randomArray(rand, oc);
    const size = n * (h - kh + 1) * (w - kw + 1) * oc;
    const naive = new Float32Array(size);
    const fast = new Float32Array(size).fill(NaN); // a value never written stays NaN and fails
    conv2dNaive(naive, x, n, h, w, c, k, bias, kh, kw, oc);
    conv2dPacked(fast, x, n, h, w, c, k, bias, kh, kw, oc);
    checkClose(`${label} naive vs brute`, naive, bruteConv(x, n, h, w, c, k, bias, kh, kw, oc), BRUTE_ABS);
    checkEqual(`${label} fast vs naive`, fast, naive);
    // With PReLU fused into the stores: the same bits as conv2dNaive followed by prelu.
    const alpha = randomArray(rand, oc);
    const fused = new Float32Array(size).fill(NaN);
    conv2d(fused, x, n, h, w, packConv(k, bias, kh, kw, c, oc), alpha);
    prelu(naive, size, alpha, oc);
    checkEqual(`${label} fused prelu vs naive + prelu`, fused, naive);
  }
});

Conv('packConv: zero-padded blocks of 4 output channels, widened to float64', () => {
  // (1, 1, 2, 5) HWIO -> (2 blocks, 1, 1, 2, 4)
  const w = f32([1, 2, 3, 4, 5, 10, 20, 30, 40, 50]);
  const packed = packConv(w, f32([0.1, 0.2, 0.3, 0.4, 0.5]), 1, 1, 2, 5);
  assert.equal(Array.from(packed.weights), [1, 2, 3, 4, 10, 20, 30, 40, 5, 0, 0, 0, 50, 0, 0, 0]);
  assert.equal(Array.from(packed.bias), [...f32([0.1, 0.2, 0.3, 0.4, 0.5]), 0, 0, 0]);
});

Conv.run();

// ---------------------------------------------------------------- prelu

const Prelu = suite('kernels/prelu');

Prelu('alpha=[0.25,-2] c=2: negatives scaled, positives and zero kept', () => {
  const x = f32([-4, -1, 3, 2, 0, -0.5]);
  prelu(x, 6, f32([0.25, -2]), 2);
  assert.equal(Array.from(x), [-1, 2, 3, 2, 0, 1]);
});

Prelu('random: equals TF relu(x) + alpha * -relu(-x) in float32 steps, bit for bit', () => {
  const rand = rng(7);
  const c = 5, count = 400;
  const alpha = randomArray(rand, c);
  const x = randomArray(rand, count, -3, 3);
  const expected = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const v = x[i], a = alpha[i % c];
    const negPart = Math.fround(a * -Math.max(-v, 0)); // alpha * -relu(-x), float32
    expected[i] = Math.fround(Math.max(v, 0) + negPart); // relu(x) + ..., float32
  }
  prelu(x, count, alpha, c);
  checkEqual('prelu', x, expected);
});

Prelu.run();

// ---------------------------------------------------------------- maxpool

/** Brute-force max-pool: pad with -inf as TF says (shape.ts' samePads), then take every window's max. */
function bruteMaxpool(
  x: Float32Array, n: number, h: number, w: number, c: number, k: number, s: number, padding: Padding,
): Float32Array {
  const pt = padding === 'SAME' ? samePads(h, k, s) : { before: 0, after: 0 };
  const pl = padding === 'SAME' ? samePads(w, k, s) : { before: 0, after: 0 };
  const ph = h + pt.before + pt.after, pw = w + pl.before + pl.after;
  const padded = new Float32Array(n * ph * pw * c).fill(-Infinity);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++)
        for (let ci = 0; ci < c; ci++)
          padded[((b * ph + y + pt.before) * pw + xx + pl.before) * c + ci] = x[((b * h + y) * w + xx) * c + ci];
  const oh = Math.floor((ph - k) / s) + 1, ow = Math.floor((pw - k) / s) + 1;
  const out = new Float32Array(n * oh * ow * c);
  let idx = 0;
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++)
        for (let ci = 0; ci < c; ci++) {
          let m = -Infinity;
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) m = Math.max(m, padded[((b * ph + y * s + i) * pw + xx * s + j) * c + ci]);
          out[idx++] = m;
        }
  return out;
}

function runPool(x: Float32Array, n: number, h: number, w: number, c: number, k: number, s: number, p: Padding) {
  const out = new Float32Array(n * outSize(h, k, s, p) * outSize(w, k, s, p) * c).fill(NaN);
  maxpool(out, x, n, h, w, c, k, s, p);
  return Array.from(out);
}

const Pool = suite('kernels/maxpool');

const ONE_TO_NINE = f32([1, 2, 3, 4, 5, 6, 7, 8, 9]); // (3, 3, 1)

Pool('x=[3,3,1] k=2 s=2 SAME: pad 0 before, 1 after', () => {
  assert.equal(runPool(ONE_TO_NINE, 1, 3, 3, 1, 2, 2, 'SAME'), [5, 6, 8, 9]);
});

Pool('x=[3,3,1] k=2 s=2 SAME, all negative: -inf padding never wins', () => {
  const neg = ONE_TO_NINE.map((v) => -v);
  assert.equal(runPool(neg, 1, 3, 3, 1, 2, 2, 'SAME'), [-1, -3, -7, -9]);
});

Pool('x=[3,3,1] k=2 s=2 VALID: the last row and column are dropped', () => {
  assert.equal(runPool(ONE_TO_NINE, 1, 3, 3, 1, 2, 2, 'VALID'), [5]);
});

Pool('x=[1,1,1] k=3 s=2 SAME: one value padded on every side', () => {
  assert.equal(runPool(f32([-5]), 1, 1, 1, 1, 3, 2, 'SAME'), [-5]);
});

Pool('x=[5,5,1] k=3 s=2 SAME: pads 1 and 1, windows centred', () => {
  // x[y, x] = 10 y + x: a window's max is its bottom-right real element.
  const x = new Float32Array(25);
  for (let y = 0; y < 5; y++) for (let xx = 0; xx < 5; xx++) x[y * 5 + xx] = 10 * y + xx;
  assert.equal(runPool(x, 1, 5, 5, 1, 3, 2, 'SAME'), [11, 13, 14, 31, 33, 34, 41, 43, 44]);
});

Pool('x=[2,2,2] k=2 s=2 VALID: channels pooled separately', () => {
  assert.equal(runPool(f32([1, -1, 2, -2, 3, -3, 4, -4]), 1, 2, 2, 2, 2, 2, 'VALID'), [4, -1]);
});

Pool('x=[2,2,1] k=2 s=2 VALID: NaN propagates wherever it is (as np.maximum)', () => {
  assert.ok(Number.isNaN(runPool(f32([1, NaN, 3, 2]), 1, 2, 2, 1, 2, 2, 'VALID')[0]));
  assert.ok(Number.isNaN(runPool(f32([NaN, 1, 3, 2]), 1, 2, 2, 1, 2, 2, 'VALID')[0]));
  assert.ok(Number.isNaN(runPool(f32([1, 3, 2, NaN]), 1, 2, 2, 1, 2, 2, 'VALID')[0]));
});

Pool('special values, 1 to 9 channels: NaN of either sign wins, +0 beats -0, infinities and subnormals in order', () => {
  // Float32 bit patterns, negative NaN (the one x86 arithmetic makes) included.
  const bits = [0x7fc00000, 0xffc00000 | 0, 0x7f800000, 0xff800000 | 0, 0, 0x80000000 | 0, 1, 0x80000001 | 0,
    0x7f7fffff, 0xff7fffff | 0, 0x3f800000, 0xbf800000 | 0];
  const special = new Float32Array(Int32Array.from(bits).buffer);
  const rand = rng(5);
  for (let trial = 0; trial < 60; trial++) {
    const c = randInt(rand, 1, 9), h = randInt(rand, 1, 5), w = randInt(rand, 1, 5);
    const x = new Float32Array(h * w * c);
    // NaNs (the first two) rarely, so that most windows have none.
    for (let i = 0; i < x.length; i++) x[i] = special[rand() < 0.05 ? randInt(rand, 0, 1) : randInt(rand, 2, special.length - 1)];
    const got = runPool(x, 1, h, w, c, 2, 1, 'SAME');
    const want = bruteMaxpool(x, 1, h, w, c, 2, 1, 'SAME');
    for (let i = 0; i < got.length; i++) {
      const ok = Number.isNaN(want[i]) ? Number.isNaN(got[i]) : Object.is(got[i], want[i]);
      if (!ok) throw new Error(`x=[1,${h},${w},${c}] k=2 s=1 SAME: [${i}] ${got[i]}, expected ${want[i]}`);
    }
  }
});

Pool('random shapes, k 1..3, s 1..3, SAME and VALID: equals padded brute force', () => {
  const rand = rng(99);
  for (let trial = 0; trial < 80; trial++) {
    const k = randInt(rand, 1, 3), s = randInt(rand, 1, 3);
    const padding: Padding = rand() < 0.5 ? 'SAME' : 'VALID';
    const n = randInt(rand, 1, 2), c = randInt(rand, 1, 9); // channels in fours and the tail one by one
    const h = randInt(rand, padding === 'VALID' ? k : 1, 9), w = randInt(rand, padding === 'VALID' ? k : 1, 9);
    const x = randomArray(rand, n * h * w * c, -2, -1); // all negative: a -inf pad that won would show
    const label = `x=[${n},${h},${w},${c}] k=${k} s=${s} ${padding}`;
    checkEqual(label, runPool(x, n, h, w, c, k, s, padding), bruteMaxpool(x, n, h, w, c, k, s, padding));
  }
});

Pool.run();

// ---------------------------------------------------------------- dense

/** dense with its weights packed, as the nets call it. */
function densePacked(
  out: Float32Array, x: Float32Array, n: number, din: number, w: Float32Array, bias: Float32Array, dout: number,
): void {
  dense(out, x, n, packDense(w, bias, din, dout));
}

const Dense = suite('kernels/dense');

Dense('n=2 din=3 dout=2: x W + b by hand', () => {
  const out = new Float32Array(4);
  // w (3, 2) = [[1, 0], [0, 1], [1, 1]]
  densePacked(out, f32([1, 2, 3, 4, 5, 6]), 2, 3, f32([1, 0, 0, 1, 1, 1]), f32([0.5, -1]), 2);
  assert.equal(Array.from(out), [4.5, 4, 10.5, 10]);
});

Dense('x=[2,2,2] flattened in (h, w, c) order: one-hot weight rows pick x[h, w, c]', () => {
  // x[h, w, c] = 100 h + 10 w + c; output o has weight 1 at flattened index o only.
  const x = new Float32Array(8);
  for (let hh = 0; hh < 2; hh++) for (let ww = 0; ww < 2; ww++) for (let cc = 0; cc < 2; cc++)
    x[(hh * 2 + ww) * 2 + cc] = 100 * hh + 10 * ww + cc;
  const w = new Float32Array(8 * 8);
  for (let i = 0; i < 8; i++) w[i * 8 + i] = 1; // (DIN, DOUT) identity
  const out = new Float32Array(8);
  densePacked(out, x, 1, 8, w, new Float32Array(8), 8);
  assert.equal(Array.from(out), [0, 1, 10, 11, 100, 101, 110, 111]);
});

Dense('random: equals float64 brute force', () => {
  const rand = rng(3);
  for (let trial = 0; trial < 20; trial++) {
    const n = randInt(rand, 1, 3), din = randInt(rand, 1, 60), dout = randInt(rand, 1, 9);
    const x = randomArray(rand, n * din), w = randomArray(rand, din * dout), b = randomArray(rand, dout);
    const expected = new Float64Array(n * dout);
    for (let r = 0; r < n; r++)
      for (let o = 0; o < dout; o++) {
        let s = b[o];
        for (let i = 0; i < din; i++) s += x[r * din + i] * w[i * dout + o];
        expected[r * dout + o] = s;
      }
    const out = new Float32Array(n * dout).fill(NaN); // a value never written stays NaN and fails
    densePacked(out, x, n, din, w, b, dout);
    checkClose(`n=${n} din=${din} dout=${dout}`, out, expected, BRUTE_ABS);
  }
});

Dense.run();

// ---------------------------------------------------------------- softmax

const Softmax = suite('kernels/softmax');

Softmax('[0, ln 3] -> [1/4, 3/4]', () => {
  const out = new Float32Array(2);
  softmax(out, f32([0, Math.log(3)]), 1, 2);
  checkClose('softmax', out, [0.25, 0.75], SOFTMAX_ABS);
});

Softmax('[1000, 1000] -> [0.5, 0.5] and [-1000, 0] -> [0, 1]: max subtracted, no overflow', () => {
  const out = new Float32Array(4);
  softmax(out, f32([1000, 1000, -1000, 0]), 2, 2);
  assert.equal(Array.from(out), [0.5, 0.5, 0, 1]);
});

Softmax('[1, 2, 3] -> e^-2, e^-1, 1 over their sum; in place', () => {
  const x = f32([1, 2, 3]);
  softmax(x, x, 1, 3);
  checkClose('softmax', x, [0.09003057317038046, 0.24472847105479764, 0.6652409557748219], SOFTMAX_ABS);
});

Softmax('random rows: equals float64 softmax, rows sum to 1', () => {
  const rand = rng(11);
  const rows = 50, cols = 4;
  const x = randomArray(rand, rows * cols, -3, 3);
  const expected = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(x[r * cols + j]);
    for (let j = 0; j < cols; j++) expected[r * cols + j] = Math.exp(x[r * cols + j]) / sum;
  }
  const out = new Float32Array(rows * cols);
  softmax(out, x, rows, cols);
  checkClose('softmax', out, expected, SOFTMAX_ABS);
});

Softmax.run();
