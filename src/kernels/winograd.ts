/**
 * 3 x 3 and 2 x 2 convolutions, stride 1, 'VALID', bias added, by Winograd's
 * minimal filtering (Lavin and Gray 2016, "Fast Algorithms for Convolutional
 * Neural Networks"): the same layers as `conv2d` (detect_face.py's
 * `Network.conv(3, 3, ...)` and `conv(2, 2, ...)`) with far fewer
 * multiplies. Every conv of the three nets but P-Net's 1 x 1 heads runs this
 * way, in tiles of outputs:
 *
 *   F(4 x 4, 3 x 3)  36 multiplies per 16 outputs and (input, output)
 *                    channel pair instead of 144 (4x fewer);
 *   F(3 x 3, 3 x 3)  25 per 9 instead of 81 (3.24x fewer), used where the
 *                    output's sides waste less in tiles of 3 (winogradTile:
 *                    R-Net's conv2, 9 x 9, and O-Net's conv2, 21 x 21);
 *   F(3 x 3, 2 x 2)  16 per 9 instead of 36 (2.25x fewer): R-Net's conv3 and
 *                    O-Net's conv4, 4 x 4 inputs, one tile each.
 *
 * For F(4 x 4, 3 x 3), one 6 x 6 input tile d (one input channel) and one
 * 3 x 3 kernel g:
 *
 *     Y = A^T [ (G g G^T) (.) (B^T d B) ] A        (.) = element-wise
 *
 *     B^T = | 4  0 -5  0  1  0 |   G = |  1/4     0     0   |   A^T = | 1  1  1  1  1  0 |
 *           | 0 -4 -4  1  1  0 |       | -1/6  -1/6  -1/6  |         | 0  1 -1  2 -2  0 |
 *           | 0  4 -4 -1  1  0 |       | -1/6   1/6  -1/6  |         | 0  1  1  4  4  0 |
 *           | 0 -2 -1  2  1  0 |       |  1/24  1/12  1/6  |         | 0  1 -1  8 -8  1 |
 *           | 0  2 -1 -2  1  0 |       |  1/24 -1/12  1/6  |
 *           | 0  4  0 -5  0  1 |       |  0     0     1    |
 *
 * for F(3 x 3, 3 x 3) (interpolation points 0, 1, -1, 2 and infinity), a
 * 5 x 5 input tile:
 *
 *     B^T = | 2 -1 -2  1  0 |   G = |  1/2    0    0   |   A^T = | 1  1  1  1  0 |
 *           | 0 -2 -1  1  0 |       | -1/2 -1/2 -1/2  |         | 0  1 -1  2  0 |
 *           | 0  2 -3  1  0 |       | -1/6  1/6 -1/6  |         | 0  1  1  4  1 |
 *           | 0 -1  0  1  0 |       |  1/6  1/3  2/3  |
 *           | 0  2 -1 -2  1 |       |  0    0    1    |
 *
 * and for F(3 x 3, 2 x 2) (points 0, 1, -1 and infinity), a 4 x 4 tile:
 *
 *     B^T = | -1  0  1  0 |   G = | -1    0   |   A^T = | 1  1  1  0 |
 *           |  0  1  1  0 |       |  1/2  1/2 |         | 0  1 -1  0 |
 *           |  0 -1  1  0 |       |  1/2 -1/2 |         | 0  1  1  1 |
 *           |  0 -1  0  1 |       |  0    1   |
 *
 * Since A is linear the sum over input channels is taken before it: for
 * each of the 36 (25, 16) positions xi of a tile, M[xi] = V[xi] U[xi] is a matrix
 * product (tiles x C) by (C x OC), with V = B^T d B the transformed input
 * and U = G g G^T the transformed kernel (packed once per layer).
 *
 * Why the results are those of the direct sum: everything is computed in
 * float64 (a JS number) and rounded to float32 once, when stored, as conv2d
 * does. The products of the direct sum are exact in float64 and its rounding
 * errors are about 1e-16 of the values summed; Winograd's are larger (G's
 * sixths are not exact in binary, and B's and A's coefficients up to 5 and 8
 * make intermediate values larger than the result) but still many orders of
 * magnitude below one float32 step, 6e-8 of the result. The two round to
 * different float32 values only when the exact sum lies that close to a
 * midpoint between two float32 values. test/winograd.test.ts compares this
 * kernel with conv2dNaive on random layers and on the real weights (equal
 * bar at most 1 output in 100,000 one float32 step off; none seen), whole
 * detections on the ten photos are bit for bit those of the direct code
 * (bench/RESULTS.md), and the golden suite runs through
 * it. F(2 x 2, 3 x 3) (16 multiplies per 4 outputs, 2.25x fewer) was
 * measured first: F(4 x 4) is 1.1-1.6x faster than it on every 3 x 3 layer
 * of the three nets (bench/RESULTS.md).
 *
 * The work goes in chunks of tiles whose V (positions x T x C float64s) stays in
 * the core's L2 cache; each chunk is transformed, then for each group of 4
 * tiles and block of 4 output channels multiplied position by position (4 x
 * 4 float64 sums, as conv2d blocks pixels and channels) and transformed back
 * at once, the bias and PReLU applied as the outputs are stored.
 *
 * Each algorithm's input and output transforms are written out with its own
 * combinations (inputF43 / outputF43, inputF33 / outputF33, inputF32 /
 * outputF32) over the same loops: transforms driven by a table of B's and
 * A's coefficients would multiply by every 0 and 1 in them.
 *
 * Tiles past the bottom or right edge (OH or OW not a multiple of the tile) read
 * their window from a copy that is zero past the edge: zeros add exactly
 * nothing to any sum, and the outputs past the edge are not stored.
 * Dimension legend: see shape.ts.
 * @module
 */
import { validOut } from './shape.ts';

/** Tiles and output channels multiplied together: 4 x 4 float64 sums at a time, as in conv2d. */
const TILE_BLOCK = 4;
const OC_BLOCK = 4;

/** Outputs per side of a tile of a 3 x 3 layer: F(4 x 4, 3 x 3) or F(3 x 3, 3 x 3). */
export type Tile = 3 | 4;

/** The three algorithms, by output tile and kernel size. */
type Algorithm = 'F43' | 'F33' | 'F32';

/** A 3 x 3 conv layer made ready for `conv3x3Winograd`, once per weights. */
export interface PackedWinograd {
  c: number;
  oc: number;
  /** (ceil(OC / OC_BLOCK), 36, C, OC_BLOCK) f64: U = G g G^T of F(4 x 4), zero past OC */
  u4: Float64Array;
  /** (ceil(OC / OC_BLOCK), 25, C, OC_BLOCK) f64: U of F(3 x 3), zero past OC */
  u3: Float64Array;
  /** (ceil(OC / OC_BLOCK) * OC_BLOCK,) f64, zero past OC */
  bias: Float64Array;
}

/** A 2 x 2 conv layer made ready for `conv2x2Winograd`, once per weights. */
export interface PackedWinograd2x2 {
  c: number;
  oc: number;
  /** (ceil(OC / OC_BLOCK), 16, C, OC_BLOCK) f64: U = G g G^T of F(3 x 3, 2 x 2), zero past OC */
  u: Float64Array;
  /** (ceil(OC / OC_BLOCK) * OC_BLOCK,) f64, zero past OC */
  bias: Float64Array;
}

/** G g for one column g of a kernel: written to out[at], out[at + step], ... */
type KernelTransform = (g: Float64Array, out: Float64Array, at: number, step: number) => void;

/** F(4 x 4, 3 x 3)'s G: 6 values from 3. */
function kernelF43(g: Float64Array, out: Float64Array, at: number, step: number): void {
  const g0 = g[0], g1 = g[1], g2 = g[2];
  out[at] = g0 / 4;
  out[at + step] = -(g0 + g1 + g2) / 6;
  out[at + 2 * step] = -(g0 - g1 + g2) / 6;
  out[at + 3 * step] = g0 / 24 + g1 / 12 + g2 / 6;
  out[at + 4 * step] = g0 / 24 - g1 / 12 + g2 / 6;
  out[at + 5 * step] = g2;
}

/** F(3 x 3, 3 x 3)'s G: 5 values from 3. */
function kernelF33(g: Float64Array, out: Float64Array, at: number, step: number): void {
  const g0 = g[0], g1 = g[1], g2 = g[2];
  out[at] = g0 / 2;
  out[at + step] = -(g0 + g1 + g2) / 2;
  out[at + 2 * step] = -(g0 - g1 + g2) / 6;
  out[at + 3 * step] = (g0 + 2 * g1 + 4 * g2) / 6;
  out[at + 4 * step] = g2;
}

/** F(3 x 3, 2 x 2)'s G: 4 values from 2. */
function kernelF32(g: Float64Array, out: Float64Array, at: number, step: number): void {
  const g0 = g[0], g1 = g[1];
  out[at] = -g0;
  out[at + step] = (g0 + g1) / 2;
  out[at + 2 * step] = (g0 - g1) / 2;
  out[at + 3 * step] = g1;
}

/**
 * U = G g G^T for every (input, output) channel pair of a (r, r, C, OC)
 * HWIO kernel, in blocks of OC_BLOCK output channels; side = tile + r - 1.
 */
function packU(w: Float32Array, r: number, c: number, oc: number, side: number, transform: KernelTransform): Float64Array {
  const xis = side * side;
  const blocks = ((oc + OC_BLOCK - 1) / OC_BLOCK) | 0; // ceil, in integers
  const u = new Float64Array(blocks * xis * c * OC_BLOCK);
  const col = new Float64Array(r); // one column (or row) of g, or of G g
  const gg = new Float64Array(side * r); // G g: side x r
  const ggg = new Float64Array(xis); // G g G^T: side x side
  for (let ci = 0; ci < c; ci++) {
    for (let o = 0; o < oc; o++) {
      for (let j = 0; j < r; j++) {
        for (let i = 0; i < r; i++) col[i] = w[((i * r + j) * c + ci) * oc + o]; // column j of g
        transform(col, gg, j, r);
      }
      for (let q = 0; q < side; q++) {
        for (let i = 0; i < r; i++) col[i] = gg[q * r + i]; // row q of G g
        transform(col, ggg, side * q, 1);
      }
      const blk = (o / OC_BLOCK) | 0, k = o % OC_BLOCK;
      for (let xi = 0; xi < xis; xi++) u[((blk * xis + xi) * c + ci) * OC_BLOCK + k] = ggg[xi];
    }
  }
  return u;
}

/** The bias widened to float64, zero past OC up to a whole block of OC_BLOCK. */
function paddedBias(bias: Float32Array, oc: number): Float64Array {
  const out = new Float64Array((((oc + OC_BLOCK - 1) / OC_BLOCK) | 0) * OC_BLOCK);
  out.set(bias.subarray(0, oc));
  return out;
}

/**
 * @param w (3, 3, C, OC) HWIO f32
 * @param bias (OC,) f32
 */
export function packWinograd(w: Float32Array, bias: Float32Array, c: number, oc: number): PackedWinograd {
  return { c, oc, u4: packU(w, 3, c, oc, 6, kernelF43), u3: packU(w, 3, c, oc, 5, kernelF33), bias: paddedBias(bias, oc) };
}

/**
 * @param w (2, 2, C, OC) HWIO f32
 * @param bias (OC,) f32
 */
export function packWinograd2x2(w: Float32Array, bias: Float32Array, c: number, oc: number): PackedWinograd2x2 {
  return { c, oc, u: packU(w, 2, c, oc, 4, kernelF32), bias: paddedBias(bias, oc) };
}

/**
 * The tile for an OH x OW output: the one with fewer transformed positions
 * in all (tiles times 36 or 25), F(4 x 4) on a tie. Each position costs the
 * same matrix products and about the same transforms, whichever the tile.
 */
export function winogradTile(oh: number, ow: number): Tile {
  const cost = (t: Tile) => Math.ceil(oh / t) * Math.ceil(ow / t) * (t + 2) * (t + 2);
  return cost(3) < cost(4) ? 3 : 4;
}

/**
 * Scratch space reused between calls, grown when a layer needs more: V of a
 * chunk; where each tile of the chunk stores (out offset of its top-left
 * output, and how many of its rows and columns exist); an edge tile's window.
 */
let vBuf = new Float64Array(0);
let tileOut = new Int32Array(0);
let tileRows = new Uint8Array(0);
let tileCols = new Uint8Array(0);
let patch = new Float32Array(0);
/** One tile between the two halves of a transform (6 x 6 at most). */
const half = new Float64Array(36);
/** M for TILE_BLOCK tiles x OC_BLOCK channels: (positions, TILE_BLOCK, OC_BLOCK) f64. */
const mBlock = new Float64Array(36 * TILE_BLOCK * OC_BLOCK);

/**
 * Otherwise identical to conv2d on a 3 x 3 layer (PReLU fused with `alpha`).
 * @param out (N, H - 2, W - 2, OC) NHWC f32
 * @param x (N, H, W, C) NHWC f32
 * @param alpha (OC,) f32 PReLU slopes, or null for the plain conv + bias
 * @param tile F(4 x 4) or F(3 x 3); by default winogradTile's choice
 */
export function conv3x3Winograd(
  out: Float32Array,
  x: Float32Array,
  n: number,
  h: number,
  width: number,
  layer: PackedWinograd,
  alpha: Float32Array | null = null,
  tile: Tile = winogradTile(h - 2, width - 2),
): void {
  const u = tile === 4 ? layer.u4 : layer.u3;
  run(tile === 4 ? 'F43' : 'F33', out, x, n, h, width, layer.c, layer.oc, u, layer.bias, alpha);
}

/**
 * Otherwise identical to conv2d on a 2 x 2 layer (PReLU fused with `alpha`), by F(3 x 3, 2 x 2).
 * @param out (N, H - 1, W - 1, OC) NHWC f32
 * @param x (N, H, W, C) NHWC f32
 * @param alpha (OC,) f32 PReLU slopes, or null for the plain conv + bias
 */
export function conv2x2Winograd(
  out: Float32Array,
  x: Float32Array,
  n: number,
  h: number,
  width: number,
  layer: PackedWinograd2x2,
  alpha: Float32Array | null = null,
): void {
  run('F32', out, x, n, h, width, layer.c, layer.oc, layer.u, layer.bias, alpha);
}

/** The tiles of one layer through one algorithm: chunk by chunk, input transform, products, output transform. */
function run(
  algorithm: Algorithm,
  out: Float32Array,
  x: Float32Array,
  n: number,
  h: number,
  width: number,
  c: number,
  oc: number,
  u: Float64Array,
  bias: Float64Array,
  alpha: Float32Array | null,
): void {
  const r = algorithm === 'F32' ? 2 : 3; // kernel side
  const tile = algorithm === 'F43' ? 4 : 3;
  const side = tile + r - 1, xis = side * side; // window side, positions
  const oh = validOut(h, r, 1);
  const ow = validOut(width, r, 1);
  if (oh <= 0 || ow <= 0 || n <= 0) return;
  const blocks = ((oc + OC_BLOCK - 1) / OC_BLOCK) | 0;
  const tilesY = ((oh + tile - 1) / tile) | 0, tilesX = ((ow + tile - 1) / tile) | 0;
  const tiles = n * tilesY * tilesX;
  // Tiles per chunk, a multiple of TILE_BLOCK: V of a chunk is at most 36 * T * C float64s, about 144 KiB.
  const chunk = Math.max(TILE_BLOCK, (((512 / c) / TILE_BLOCK) | 0) * TILE_BLOCK);
  if (vBuf.length < 36 * chunk * c) vBuf = new Float64Array(36 * chunk * c);
  if (tileOut.length < chunk) {
    tileOut = new Int32Array(chunk);
    tileRows = new Uint8Array(chunk);
    tileCols = new Uint8Array(chunk);
  }
  if (patch.length < 36 * c) patch = new Float32Array(36 * c);
  const v = vBuf, vStride = chunk * c; // one position xi in v
  const at = tileOut, rows = tileRows, cols = tileCols;
  for (let first = 0; first < tiles; first += chunk) {
    const count = Math.min(chunk, tiles - first);
    locateTiles(at, rows, cols, tile, oh, ow, oc, tilesX, tilesY, first, count);
    if (algorithm === 'F43') inputF43(v, vStride, x, h, width, c, tilesX, tilesY, first, count);
    else if (algorithm === 'F33') inputF33(v, vStride, x, h, width, c, tilesX, tilesY, first, count);
    else inputF32(v, vStride, x, h, width, c, tilesX, tilesY, first, count);
    // A last group past `count` multiplies stale rows of v; the output transforms never store those sums.
    for (let t = 0; t < count; t += TILE_BLOCK) {
      const inGroup = Math.min(TILE_BLOCK, count - t);
      for (let blk = 0; blk < blocks; blk++) {
        if (c === 3) multiplyBlock3(mBlock, xis, v, vStride, t * c, u, blk * xis * c * OC_BLOCK);
        else multiplyBlock(mBlock, xis, v, vStride, t * c, u, blk * xis * c * OC_BLOCK, c);
        const o0 = blk * OC_BLOCK;
        if (algorithm === 'F43') outputF43(out, mBlock, bias, alpha, o0, ow * oc, oc, at, rows, cols, t, inGroup);
        else if (algorithm === 'F33') outputF33(out, mBlock, bias, alpha, o0, ow * oc, oc, at, rows, cols, t, inGroup);
        else outputF32(out, mBlock, bias, alpha, o0, ow * oc, oc, at, rows, cols, t, inGroup);
      }
    }
  }
}

/**
 * For `count` tiles from `first` on (tiles in NHW order): where each stores
 * its top-left output in out, and how many of its rows and columns of
 * outputs lie inside OH x OW.
 */
function locateTiles(
  at: Int32Array, rows: Uint8Array, cols: Uint8Array, tile: number,
  oh: number, ow: number, oc: number, tilesX: number, tilesY: number, first: number, count: number,
): void {
  for (let t = 0; t < count; t++) {
    const i = first + t;
    const tx = i % tilesX, rest = (i / tilesX) | 0;
    const ty = rest % tilesY, img = (rest / tilesY) | 0;
    const y0 = tile * ty, x0 = tile * tx;
    at[t] = ((img * oh + y0) * ow + x0) * oc;
    rows[t] = Math.min(tile, oh - y0);
    cols[t] = Math.min(tile, ow - x0);
  }
}

/**
 * Where tile number `i` (NHW order) reads its side x side window: in x, or,
 * for a tile past the bottom or right edge, in `patch`, a copy of the part
 * inside with zeros past the edge. Returns the source; `windowAt` gets the
 * offset of its (0, 0, 0) and the step from one window row to the next.
 */
const windowAt = { base: 0, rowStride: 0 };
function tileWindow(x: Float32Array, h: number, width: number, c: number, side: number, tile: number, tilesX: number, tilesY: number, i: number): Float32Array {
  const tx = i % tilesX, rest = (i / tilesX) | 0;
  const ty = rest % tilesY, img = (rest / tilesY) | 0;
  const y0 = tile * ty, x0 = tile * tx;
  const xRow = width * c;
  if (y0 + side <= h && x0 + side <= width) {
    windowAt.base = (img * h + y0) * xRow + x0 * c;
    windowAt.rowStride = xRow;
    return x;
  }
  patch.fill(0, 0, side * side * c);
  const rows = Math.min(side, h - y0), cols = Math.min(side, width - x0);
  for (let r = 0; r < rows; r++) {
    const from = (img * h + y0 + r) * xRow + x0 * c;
    patch.set(x.subarray(from, from + cols * c), r * side * c);
  }
  windowAt.base = 0;
  windowAt.rowStride = side * c;
  return patch;
}

/** F(4 x 4, 3 x 3)'s V = B^T d B for `count` tiles from `first` on, each input channel: v[xi, t, ci]. */
function inputF43(
  v: Float64Array, vStride: number, x: Float32Array, h: number, width: number, c: number,
  tilesX: number, tilesY: number, first: number, count: number,
): void {
  const tmp = half;
  for (let t = 0; t < count; t++) {
    // The tile's window: src[base + r * rowStride + j * c + ci] = d[r][j] of channel ci.
    const src = tileWindow(x, h, width, c, 6, 4, tilesX, tilesY, first + t);
    const base = windowAt.base, rowStride = windowAt.rowStride;
    const dst = t * c;
    for (let ci = 0; ci < c; ci++) {
      // B^T d: each column j of the window, down its 6 rows, into tmp[r][j]. With
      // a = d4 - 4 d2, b = 4 d1 - d3, e = d4 - d2, f = 2 (d1 - d3), the rows of B^T give
      // 4 d0 - 5 d2 + d4, a - b, a + b, e - f, e + f, 4 d1 - 5 d3 + d5.
      for (let j = 0; j < 6; j++) {
        const at = base + j * c + ci;
        const d0 = src[at], d1 = src[at + rowStride], d2 = src[at + 2 * rowStride];
        const d3 = src[at + 3 * rowStride], d4 = src[at + 4 * rowStride], d5 = src[at + 5 * rowStride];
        const a = d4 - 4 * d2, b = 4 * d1 - d3, e = d4 - d2, f = 2 * (d1 - d3);
        tmp[j] = 4 * d0 - 5 * d2 + d4;
        tmp[6 + j] = a - b;
        tmp[12 + j] = a + b;
        tmp[18 + j] = e - f;
        tmp[24 + j] = e + f;
        tmp[30 + j] = 4 * d1 - 5 * d3 + d5;
      }
      // (B^T d) B: each row r of tmp, along its 6 columns, into v[6 r + s] (the same combinations).
      for (let r = 0; r < 6; r++) {
        const q = 6 * r;
        const d0 = tmp[q], d1 = tmp[q + 1], d2 = tmp[q + 2], d3 = tmp[q + 3], d4 = tmp[q + 4], d5 = tmp[q + 5];
        const a = d4 - 4 * d2, b = 4 * d1 - d3, e = d4 - d2, f = 2 * (d1 - d3);
        const at = dst + ci + q * vStride;
        v[at] = 4 * d0 - 5 * d2 + d4;
        v[at + vStride] = a - b;
        v[at + 2 * vStride] = a + b;
        v[at + 3 * vStride] = e - f;
        v[at + 4 * vStride] = e + f;
        v[at + 5 * vStride] = 4 * d1 - 5 * d3 + d5;
      }
    }
  }
}

/** F(3 x 3, 3 x 3)'s V = B^T d B, as inputF43 on 5 x 5 windows. */
function inputF33(
  v: Float64Array, vStride: number, x: Float32Array, h: number, width: number, c: number,
  tilesX: number, tilesY: number, first: number, count: number,
): void {
  const tmp = half;
  for (let t = 0; t < count; t++) {
    const src = tileWindow(x, h, width, c, 5, 3, tilesX, tilesY, first + t);
    const base = windowAt.base, rowStride = windowAt.rowStride;
    const dst = t * c;
    for (let ci = 0; ci < c; ci++) {
      // B^T d: each column j of the window, down its 5 rows, into tmp[r][j], one row of B^T each.
      for (let j = 0; j < 5; j++) {
        const at = base + j * c + ci;
        const d0 = src[at], d1 = src[at + rowStride], d2 = src[at + 2 * rowStride];
        const d3 = src[at + 3 * rowStride], d4 = src[at + 4 * rowStride];
        tmp[j] = 2 * d0 - d1 - 2 * d2 + d3;
        tmp[5 + j] = -2 * d1 - d2 + d3;
        tmp[10 + j] = 2 * d1 - 3 * d2 + d3;
        tmp[15 + j] = d3 - d1;
        tmp[20 + j] = 2 * d1 - d2 - 2 * d3 + d4;
      }
      // (B^T d) B: each row r of tmp, along its 5 columns, into v[5 r + s].
      for (let r = 0; r < 5; r++) {
        const q = 5 * r;
        const d0 = tmp[q], d1 = tmp[q + 1], d2 = tmp[q + 2], d3 = tmp[q + 3], d4 = tmp[q + 4];
        const at = dst + ci + q * vStride;
        v[at] = 2 * d0 - d1 - 2 * d2 + d3;
        v[at + vStride] = -2 * d1 - d2 + d3;
        v[at + 2 * vStride] = 2 * d1 - 3 * d2 + d3;
        v[at + 3 * vStride] = d3 - d1;
        v[at + 4 * vStride] = 2 * d1 - d2 - 2 * d3 + d4;
      }
    }
  }
}

/** F(3 x 3, 2 x 2)'s V = B^T d B, as inputF43 on 4 x 4 windows. */
function inputF32(
  v: Float64Array, vStride: number, x: Float32Array, h: number, width: number, c: number,
  tilesX: number, tilesY: number, first: number, count: number,
): void {
  const tmp = half;
  for (let t = 0; t < count; t++) {
    const src = tileWindow(x, h, width, c, 4, 3, tilesX, tilesY, first + t);
    const base = windowAt.base, rowStride = windowAt.rowStride;
    const dst = t * c;
    for (let ci = 0; ci < c; ci++) {
      // B^T d: each column j of the window, down its 4 rows, into tmp[r][j]:
      // d2 - d0, d1 + d2, d2 - d1, d3 - d1.
      for (let j = 0; j < 4; j++) {
        const at = base + j * c + ci;
        const d0 = src[at], d1 = src[at + rowStride], d2 = src[at + 2 * rowStride], d3 = src[at + 3 * rowStride];
        tmp[j] = d2 - d0;
        tmp[4 + j] = d1 + d2;
        tmp[8 + j] = d2 - d1;
        tmp[12 + j] = d3 - d1;
      }
      // (B^T d) B: each row r of tmp, along its 4 columns, into v[4 r + s].
      for (let r = 0; r < 4; r++) {
        const q = 4 * r;
        const d0 = tmp[q], d1 = tmp[q + 1], d2 = tmp[q + 2], d3 = tmp[q + 3];
        const at = dst + ci + q * vStride;
        v[at] = d2 - d0;
        v[at + vStride] = d1 + d2;
        v[at + 2 * vStride] = d2 - d1;
        v[at + 3 * vStride] = d3 - d1;
      }
    }
  }
}

/**
 * M[xi] = V[xi] U[xi] for TILE_BLOCK tiles and one block of OC_BLOCK output
 * channels, each of the `xis` positions in turn: 16 float64 sums over C.
 * @param m (xis, TILE_BLOCK, OC_BLOCK) f64, written
 * @param v0 offset of the group's first tile in v (position 0)
 * @param u0 offset of the channel block in u (position 0)
 */
function multiplyBlock(m: Float64Array, xis: number, v: Float64Array, vStride: number, v0: number, u: Float64Array, u0: number, c: number): void {
  for (let xi = 0; xi < xis; xi++) {
    const a = v0 + xi * vStride, b = a + c, e = b + c, f = e + c;
    let p = u0 + xi * c * OC_BLOCK;
    let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
    let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
    let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
    let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
    for (let ci = 0; ci < c; ci++) {
      const x0 = v[a + ci], x1 = v[b + ci], x2 = v[e + ci], x3 = v[f + ci];
      let wv = u[p];
      s00 += x0 * wv; s10 += x1 * wv; s20 += x2 * wv; s30 += x3 * wv;
      wv = u[p + 1];
      s01 += x0 * wv; s11 += x1 * wv; s21 += x2 * wv; s31 += x3 * wv;
      wv = u[p + 2];
      s02 += x0 * wv; s12 += x1 * wv; s22 += x2 * wv; s32 += x3 * wv;
      wv = u[p + 3];
      s03 += x0 * wv; s13 += x1 * wv; s23 += x2 * wv; s33 += x3 * wv;
      p += OC_BLOCK;
    }
    const d = xi * TILE_BLOCK * OC_BLOCK;
    m[d] = s00; m[d + 1] = s01; m[d + 2] = s02; m[d + 3] = s03;
    m[d + 4] = s10; m[d + 5] = s11; m[d + 6] = s12; m[d + 7] = s13;
    m[d + 8] = s20; m[d + 9] = s21; m[d + 10] = s22; m[d + 11] = s23;
    m[d + 12] = s30; m[d + 13] = s31; m[d + 14] = s32; m[d + 15] = s33;
  }
}

/**
 * multiplyBlock for C = 3 (the nets' first layers, on RGB), the 3-long sums
 * written out (the same sums in the same order: from 0, channel 0 first):
 * 1.2-1.3x faster on those layers than the loop.
 */
function multiplyBlock3(m: Float64Array, xis: number, v: Float64Array, vStride: number, v0: number, u: Float64Array, u0: number): void {
  for (let xi = 0; xi < xis; xi++) {
    const a = v0 + xi * vStride, p = u0 + xi * 3 * OC_BLOCK;
    // Tiles 0..3 of the group (a, b, c, d), channels 0..2.
    const a0 = v[a], a1 = v[a + 1], a2 = v[a + 2];
    const b0 = v[a + 3], b1 = v[a + 4], b2 = v[a + 5];
    const c0 = v[a + 6], c1 = v[a + 7], c2 = v[a + 8];
    const d0 = v[a + 9], d1 = v[a + 10], d2 = v[a + 11];
    const d = xi * TILE_BLOCK * OC_BLOCK;
    for (let k = 0; k < OC_BLOCK; k++) {
      const w0 = u[p + k], w1 = u[p + 4 + k], w2 = u[p + 8 + k];
      m[d + k] = 0 + a0 * w0 + a1 * w1 + a2 * w2;
      m[d + 4 + k] = 0 + b0 * w0 + b1 * w1 + b2 * w2;
      m[d + 8 + k] = 0 + c0 * w0 + c1 * w1 + c2 * w2;
      m[d + 12 + k] = 0 + d0 * w0 + d1 * w1 + d2 * w2;
    }
  }
}

/**
 * F(4 x 4, 3 x 3)'s Y = A^T M A + bias for `count` tiles (from t0 on in the chunk) and the
 * channels from o0 on of one block: rounded to float32, then PReLU as conv2d
 * applies it; only outputs inside OH x OW and channels below OC are stored.
 */
function outputF43(
  out: Float32Array, m: Float64Array, bias: Float64Array, alpha: Float32Array | null,
  o0: number, rowStride: number, oc: number,
  tileOut: Int32Array, tileRows: Uint8Array, tileCols: Uint8Array, t0: number, count: number,
): void {
  const tmp = half;
  const kEnd = Math.min(OC_BLOCK, oc - o0);
  const S = TILE_BLOCK * OC_BLOCK; // one position xi in m
  for (let t = 0; t < count; t++) {
    const base = tileOut[t0 + t] + o0;
    const rows = tileRows[t0 + t], cols = tileCols[t0 + t];
    for (let k = 0; k < kEnd; k++) {
      const s = t * OC_BLOCK + k;
      // A^T M: each column j of M, down its 6 rows, into tmp[r][j] (4 rows). With
      // a = m1 + m2, b = m1 - m2, e = m3 + m4, f = m3 - m4, the rows of A^T give
      // m0 + a + e, b + 2 f, a + 4 e, b + 8 f + m5.
      for (let j = 0; j < 6; j++) {
        const at = s + j * S;
        const m0 = m[at], m1 = m[at + 6 * S], m2 = m[at + 12 * S], m3 = m[at + 18 * S], m4 = m[at + 24 * S], m5 = m[at + 30 * S];
        const a = m1 + m2, b = m1 - m2, e = m3 + m4, f = m3 - m4;
        tmp[j] = m0 + a + e;
        tmp[6 + j] = b + 2 * f;
        tmp[12 + j] = a + 4 * e;
        tmp[18 + j] = b + 8 * f + m5;
      }
      const bo = bias[o0 + k];
      const am = alpha === null ? 0 : alpha[o0 + k] - 1;
      // (A^T M) A: each row r, along its 6 columns, into output row r (the same combinations).
      for (let r = 0; r < rows; r++) {
        const q = 6 * r;
        const m0 = tmp[q], m1 = tmp[q + 1], m2 = tmp[q + 2], m3 = tmp[q + 3], m4 = tmp[q + 4], m5 = tmp[q + 5];
        const a = m1 + m2, b = m1 - m2, e = m3 + m4, f = m3 - m4;
        const o = base + r * rowStride + k;
        out[o] = activate(m0 + a + e + bo, am);
        if (cols > 1) {
          out[o + oc] = activate(b + 2 * f + bo, am);
        }
        if (cols > 2) {
          out[o + 2 * oc] = activate(a + 4 * e + bo, am);
        }
        if (cols > 3) {
          out[o + 3 * oc] = activate(b + 8 * f + m5 + bo, am);
        }
      }
    }
  }
}

/** F(3 x 3, 3 x 3)'s Y = A^T M A + bias, as outputF43 on 5 x 5 M and 3 x 3 outputs. */
function outputF33(
  out: Float32Array, m: Float64Array, bias: Float64Array, alpha: Float32Array | null,
  o0: number, rowStride: number, oc: number,
  tileOut: Int32Array, tileRows: Uint8Array, tileCols: Uint8Array, t0: number, count: number,
): void {
  const tmp = half;
  const kEnd = Math.min(OC_BLOCK, oc - o0);
  const S = TILE_BLOCK * OC_BLOCK; // one position xi in m
  for (let t = 0; t < count; t++) {
    const base = tileOut[t0 + t] + o0;
    const rows = tileRows[t0 + t], cols = tileCols[t0 + t];
    for (let k = 0; k < kEnd; k++) {
      const s = t * OC_BLOCK + k;
      // A^T M: each column j of M, down its 5 rows, into tmp[r][j] (3 rows):
      // m0 + m1 + m2 + m3, m1 - m2 + 2 m3, m1 + m2 + 4 m3 + m4.
      for (let j = 0; j < 5; j++) {
        const at = s + j * S;
        const m0 = m[at], m1 = m[at + 5 * S], m2 = m[at + 10 * S], m3 = m[at + 15 * S], m4 = m[at + 20 * S];
        tmp[j] = m0 + m1 + m2 + m3;
        tmp[5 + j] = m1 - m2 + 2 * m3;
        tmp[10 + j] = m1 + m2 + 4 * m3 + m4;
      }
      const bo = bias[o0 + k];
      const am = alpha === null ? 0 : alpha[o0 + k] - 1;
      // (A^T M) A: each row r, along its 5 columns, into output row r (the same combinations).
      for (let r = 0; r < rows; r++) {
        const q = 5 * r;
        const m0 = tmp[q], m1 = tmp[q + 1], m2 = tmp[q + 2], m3 = tmp[q + 3], m4 = tmp[q + 4];
        const o = base + r * rowStride + k;
        out[o] = activate(m0 + m1 + m2 + m3 + bo, am);
        if (cols > 1) {
          out[o + oc] = activate(m1 - m2 + 2 * m3 + bo, am);
        }
        if (cols > 2) {
          out[o + 2 * oc] = activate(m1 + m2 + 4 * m3 + m4 + bo, am);
        }
      }
    }
  }
}

/** F(3 x 3, 2 x 2)'s Y = A^T M A + bias, as outputF43 on 4 x 4 M and 3 x 3 outputs. */
function outputF32(
  out: Float32Array, m: Float64Array, bias: Float64Array, alpha: Float32Array | null,
  o0: number, rowStride: number, oc: number,
  tileOut: Int32Array, tileRows: Uint8Array, tileCols: Uint8Array, t0: number, count: number,
): void {
  const tmp = half;
  const kEnd = Math.min(OC_BLOCK, oc - o0);
  const S = TILE_BLOCK * OC_BLOCK; // one position xi in m
  for (let t = 0; t < count; t++) {
    const base = tileOut[t0 + t] + o0;
    const rows = tileRows[t0 + t], cols = tileCols[t0 + t];
    for (let k = 0; k < kEnd; k++) {
      const s = t * OC_BLOCK + k;
      // A^T M: each column j of M, down its 4 rows, into tmp[r][j] (3 rows):
      // m0 + m1 + m2, m1 - m2, m1 + m2 + m3.
      for (let j = 0; j < 4; j++) {
        const at = s + j * S;
        const m0 = m[at], m1 = m[at + 4 * S], m2 = m[at + 8 * S], m3 = m[at + 12 * S];
        tmp[j] = m0 + m1 + m2;
        tmp[4 + j] = m1 - m2;
        tmp[8 + j] = m1 + m2 + m3;
      }
      const bo = bias[o0 + k];
      const am = alpha === null ? 0 : alpha[o0 + k] - 1;
      // (A^T M) A: each row r, along its 4 columns, into output row r (the same combinations).
      for (let r = 0; r < rows; r++) {
        const q = 4 * r;
        const m0 = tmp[q], m1 = tmp[q + 1], m2 = tmp[q + 2], m3 = tmp[q + 3];
        const o = base + r * rowStride + k;
        out[o] = activate(m0 + m1 + m2 + bo, am);
        if (cols > 1) {
          out[o + oc] = activate(m1 - m2 + bo, am);
        }
        if (cols > 2) {
          out[o + 2 * oc] = activate(m1 + m2 + m3 + bo, am);
        }
      }
    }
  }
}

/**
 * One output: the float64 sum rounded to float32, then PReLU as conv2d
 * applies it (am = alpha - 1, or 0 without PReLU: v or v * alpha, exactly).
 */
function activate(sum: number, am: number): number {
  const y = Math.fround(sum);
  return y * (1 + am * +(y < 0));
}
