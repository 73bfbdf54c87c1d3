/**
 * The Winograd 3 x 3 kernel (src/kernels/winograd.ts) against conv2dNaive,
 * the plain definition: hand cases, random shapes (every tile edge case:
 * odd and even OH and OW, batches, channel tails), and every 3 x 3 layer of
 * the three nets with its real weights.
 *
 * What is compared: both compute in float64 and round once to float32, in
 * different ways, so they may disagree only where the exact sum lies within
 * about 1e-14 (relative) of a midpoint between two float32 values, and then
 * by one float32 step (see the header of winograd.ts). The check
 * allows that and nothing more: each output equal or one step apart, and
 * one-step outputs at most 1 in 100,000 (the expected rate is under 1e-6;
 * none has been seen). A wrong transform or index moves outputs by far more
 * than a step, in most of them.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { conv2dNaive } from '../src/kernels/conv2d.ts';
import { prelu } from '../src/kernels/prelu.ts';
import { conv2x2Winograd, conv3x3Winograd, packWinograd, packWinograd2x2, winogradTile, type Tile } from '../src/kernels/winograd.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import type { NetWeights } from '../src/weights/format.ts';
import { checkClose, checkEqual } from './helpers/check.ts';
import { rng } from './helpers/random.ts';

/** One-step differences allowed, as a fraction of the outputs compared (see the header). */
const MAX_STEP_RATE = 1e-5;

function randomArray(rand: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}

const randInt = (rand: () => number, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

/** Float32 steps between a and b (both finite, same sign), or Infinity. */
function steps(a: number, b: number): number {
  if (a === b) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b) || Math.sign(a) !== Math.sign(b)) return Infinity;
  const bits = new Int32Array(new Float32Array([a, b]).buffer);
  return Math.abs(bits[0] - bits[1]);
}

/** Throws unless `actual` equals `expected` bar the allowed one-step outputs; returns how many were one step off. */
function checkNearlyEqual(label: string, actual: Float32Array, expected: Float32Array): number {
  assert.is(actual.length, expected.length, `${label}: length`);
  let oneStep = 0;
  for (let i = 0; i < actual.length; i++) {
    const s = steps(actual[i], expected[i]);
    if (s === 1) oneStep++;
    else if (s !== 0) throw new Error(`${label}: [${i}] winograd ${actual[i]}, naive ${expected[i]}`);
  }
  if (oneStep > MAX_STEP_RATE * actual.length) {
    throw new Error(`${label}: ${oneStep} of ${actual.length} outputs one float32 step off`);
  }
  return oneStep;
}

/** conv2dNaive (a 3 x 3 kernel, or r x r), then prelu when alpha is given: what the nets computed before Winograd. */
function reference(
  x: Float32Array, n: number, h: number, w: number, c: number,
  k: Float32Array, bias: Float32Array, oc: number, alpha: Float32Array | null, r = 3,
): Float32Array {
  const out = new Float32Array(n * (h - r + 1) * (w - r + 1) * oc);
  conv2dNaive(out, x, n, h, w, c, k, bias, r, r, oc);
  if (alpha !== null) prelu(out, out.length, alpha, oc);
  return out;
}

function winograd(
  x: Float32Array, n: number, h: number, w: number, c: number,
  k: Float32Array, bias: Float32Array, oc: number, alpha: Float32Array | null, tile?: Tile,
): Float32Array {
  const out = new Float32Array(n * (h - 2) * (w - 2) * oc).fill(NaN); // a value never written stays NaN and fails
  conv3x3Winograd(out, x, n, h, w, packWinograd(k, bias, c, oc), alpha, tile);
  return out;
}

const TILES: Tile[] = [4, 3];

function winograd2x2(
  x: Float32Array, n: number, h: number, w: number, c: number,
  k: Float32Array, bias: Float32Array, oc: number, alpha: Float32Array | null,
): Float32Array {
  const out = new Float32Array(n * (h - 1) * (w - 1) * oc).fill(NaN);
  conv2x2Winograd(out, x, n, h, w, packWinograd2x2(k, bias, c, oc), alpha);
  return out;
}

const W = suite('kernels/winograd');

W('x=[4,4,1] (one tile, past the edges), kernel with one 1 in the middle: the 2 x 2 centre plus the bias', () => {
  const x = Float32Array.from({ length: 16 }, (_, i) => i + 1); // 1..16 row-major
  const k = new Float32Array(9);
  k[4] = 1;
  for (const tile of TILES) {
    const out = winograd(x, 1, 4, 4, 1, k, Float32Array.of(0.5), 1, null, tile);
    assert.equal(Array.from(out), [6.5, 7.5, 10.5, 11.5], `tile ${tile}`);
  }
});

W('x=[5,3,1] (OH = 3, OW = 1: one tile reaching past both edges), all-ones kernel: 3 x 3 window sums', () => {
  const x = Float32Array.from({ length: 15 }, (_, i) => i); // 0..14, rows of 3
  for (const tile of TILES) {
    const out = winograd(x, 1, 5, 3, 1, new Float32Array(9).fill(1), Float32Array.of(0), 1, null, tile);
    // Window sums of rows 0-2, 1-3, 2-4: 36, 63, 90.
    assert.equal(Array.from(out), [36, 63, 90], `tile ${tile}`);
  }
});

W('random shapes, with and without PReLU: equal to conv2dNaive (+ prelu)', () => {
  const rand = rng(20261204);
  let outputs = 0, oneStep = 0;
  for (let trial = 0; trial < 80; trial++) {
    const n = randInt(rand, 1, 3);
    const h = randInt(rand, 3, 20), w = randInt(rand, 3, 20); // OH, OW in 1..18: whole tiles of 4 and every remainder
    const c = randInt(rand, 1, 9), oc = randInt(rand, 1, 10); // OC tails of every size
    const label = `x=[${n},${h},${w},${c}] oc=${oc}`;
    const x = randomArray(rand, n * h * w * c);
    const k = randomArray(rand, 9 * c * oc);
    const bias = randomArray(rand, oc);
    const alpha = trial % 2 === 0 ? randomArray(rand, oc) : null;
    const expected = reference(x, n, h, w, c, k, bias, oc, alpha);
    for (const tile of TILES) {
      oneStep += checkNearlyEqual(`${label} tile ${tile}`, winograd(x, n, h, w, c, k, bias, oc, alpha, tile), expected);
      outputs += expected.length;
    }
  }
  console.log(`  winograd random shapes, both tiles: ${outputs} outputs, ${oneStep} one float32 step off`);
});

W('2 x 2, x=[3,4,1] (one tile, past the right edge), kernel [[1, 0], [0, 1]]: diagonal pair sums plus the bias', () => {
  const x = Float32Array.from({ length: 12 }, (_, i) => i + 1); // 1..12, rows of 4
  const out = winograd2x2(x, 1, 3, 4, 1, Float32Array.of(1, 0, 0, 1), Float32Array.of(-1), 1, null);
  assert.equal(Array.from(out), [6, 8, 10, 14, 16, 18]);
});

W('2 x 2, random shapes, with and without PReLU: equal to conv2dNaive (+ prelu)', () => {
  const rand = rng(22);
  let outputs = 0, oneStep = 0;
  for (let trial = 0; trial < 80; trial++) {
    const n = randInt(rand, 1, 3);
    const h = randInt(rand, 2, 14), w = randInt(rand, 2, 14); // OH, OW in 1..13: whole tiles of 3 and every remainder
    const c = randInt(rand, 1, 9), oc = randInt(rand, 1, 10);
    const x = randomArray(rand, n * h * w * c);
    const k = randomArray(rand, 4 * c * oc);
    const bias = randomArray(rand, oc);
    const alpha = trial % 2 === 0 ? randomArray(rand, oc) : null;
    const expected = reference(x, n, h, w, c, k, bias, oc, alpha, 2);
    oneStep += checkNearlyEqual(`x=[${n},${h},${w},${c}] oc=${oc}`, winograd2x2(x, n, h, w, c, k, bias, oc, alpha), expected);
    outputs += expected.length;
  }
  console.log(`  winograd 2 x 2 random shapes: ${outputs} outputs, ${oneStep} one float32 step off`);
});

W('every 3 x 3 and 2 x 2 layer of P-Net, R-Net and O-Net, real weights: equal to conv2dNaive + prelu', () => {
  const weights = loadWeightsFile();
  const rand = rng(7);
  // [net, layer, PReLU, n, h, w]: inputs of the sizes the nets give these layers.
  const layers: [NetWeights, string, string, number, number, number][] = [
    [weights.pnet, 'conv1', 'PReLU1', 1, 40, 31],
    [weights.pnet, 'conv2', 'PReLU2', 1, 19, 14],
    [weights.pnet, 'conv3', 'PReLU3', 1, 17, 12],
    [weights.rnet, 'conv1', 'prelu1', 6, 24, 24],
    [weights.rnet, 'conv2', 'prelu2', 6, 11, 11],
    [weights.onet, 'conv1', 'prelu1', 2, 48, 48],
    [weights.onet, 'conv2', 'prelu2', 2, 23, 23],
    [weights.onet, 'conv3', 'prelu3', 2, 10, 10],
  ];
  let outputs = 0, oneStep = 0;
  for (const [net, layer, preluName, n, h, w] of layers) {
    const kernel = net[`${layer}/weights`];
    const [kh, kw, c, oc] = kernel.shape;
    assert.equal([kh, kw], [3, 3], layer);
    const x = randomArray(rand, n * h * w * c, -2, 2);
    const bias = net[`${layer}/biases`].data, alpha = net[`${preluName}/alpha`].data;
    const expected = reference(x, n, h, w, c, kernel.data, bias, oc, alpha);
    for (const tile of TILES) {
      oneStep += checkNearlyEqual(`${layer} tile ${tile}`, winograd(x, n, h, w, c, kernel.data, bias, oc, alpha, tile), expected);
      outputs += expected.length;
    }
  }
  // The 2 x 2 layers (R-Net conv3, O-Net conv4) on the inputs the nets give them.
  for (const [net, layer, preluName, n] of [[weights.rnet, 'conv3', 'prelu3', 16], [weights.onet, 'conv4', 'prelu4', 8]] as const) {
    const kernel = net[`${layer}/weights`];
    const [kh, kw, c, oc] = kernel.shape;
    assert.equal([kh, kw], [2, 2], layer);
    const x = randomArray(rand, n * 4 * 4 * c, -2, 2);
    const bias = net[`${layer}/biases`].data, alpha = net[`${preluName}/alpha`].data;
    const expected = reference(x, n, 4, 4, c, kernel.data, bias, oc, alpha, 2);
    oneStep += checkNearlyEqual(layer, winograd2x2(x, n, 4, 4, c, kernel.data, bias, oc, alpha), expected);
    outputs += expected.length;
  }
  console.log(`  winograd real layers, both tiles and the 2 x 2 ones: ${outputs} outputs, ${oneStep} one float32 step off`);
});

W('packWinograd: U = G g G^T for both tiles, in blocks of 4 output channels zero-padded', () => {
  // One input channel, two output channels: g0 = all ones, g1 = 1 at the centre only.
  const k = new Float32Array(18);
  for (let t = 0; t < 9; t++) k[t * 2] = 1;
  k[4 * 2 + 1] = 1;
  const p = packWinograd(k, Float32Array.of(1, 2), 1, 2);
  // U for position (r, s): (G g0)[r] (G g0)[s] for channel 0, (G g1)[r] (G g1)[s] for channel 1, 0, 0.
  const expectedU = (g0: number[], g1: number[]) => g0.flatMap((_, r) => g0.flatMap((_, s) => [g0[r] * g0[s], g1[r] * g1[s], 0, 0]));
  // F(4 x 4): G (1, 1, 1) = (1/4, -1/2, -1/6, 7/24, 1/8, 1); G (0, 1, 0) = (0, -1/6, 1/6, 1/12, -1/12, 0).
  const g4 = [1 / 4, -1 / 2, -1 / 6, 7 / 24, 1 / 8, 1], c4 = [0, -1 / 6, 1 / 6, 1 / 12, -1 / 12, 0];
  // F(3 x 3): G (1, 1, 1) = (1/2, -3/2, -1/6, 7/6, 1); G (0, 1, 0) = (0, -1/2, 1/6, 1/3, 0).
  const g3 = [1 / 2, -3 / 2, -1 / 6, 7 / 6, 1], c3 = [0, -1 / 2, 1 / 6, 1 / 3, 0];
  // Sixths are not exact in binary: the packing's own float64 steps may differ from these in the last bits.
  checkClose('u4', p.u4, expectedU(g4, c4), 1e-15);
  checkClose('u3', p.u3, expectedU(g3, c3), 1e-15);
  assert.equal(Array.from(p.bias), [1, 2, 0, 0]);
  // F(3 x 3, 2 x 2), exact in binary: g0 = all ones, g1 = [[0, 1], [0, 0]] (HWIO, one input channel).
  const k2 = Float32Array.of(1, 0, 1, 1, 1, 0, 1, 0);
  // G (1, 1) = (-1, 1, 0, 1); G (0, 0) = 0 down column 0 and G (1, 0) = (-1, 1/2, 1/2, 0) down column 1 for g1.
  const g2 = [-1, 1, 0, 1];
  const u2: number[] = [];
  const g1cols = [[0, 0, 0, 0], [-1, 1 / 2, 1 / 2, 0]]; // G applied to g1's columns
  for (let r = 0; r < 4; r++) {
    // row r of G g1 = (G g1 col 0 [r], G g1 col 1 [r]); then G of that row.
    const a = g1cols[0][r], b = g1cols[1][r];
    const row = [-a, (a + b) / 2, (a - b) / 2, b];
    for (let s = 0; s < 4; s++) u2.push(g2[r] * g2[s], row[s], 0, 0);
  }
  checkEqual('u (2 x 2)', packWinograd2x2(k2, Float32Array.of(1, 2), 1, 2).u, u2);
});

W('winogradTile: the tile with fewer transformed positions; the nets\' 9 x 9 and 21 x 21 layers get 3', () => {
  assert.is(winogradTile(9, 9), 3); // R-Net conv2: 9 tiles x 25 < 9 x 36
  assert.is(winogradTile(21, 21), 3); // O-Net conv2: 49 x 25 < 36 x 36
  assert.is(winogradTile(8, 8), 4); // O-Net conv3: 4 x 36 < 9 x 25
  assert.is(winogradTile(22, 22), 4); // R-Net conv1
  assert.is(winogradTile(405, 226), 4); // P-Net, a large level
});

W.run();
