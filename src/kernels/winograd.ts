/**
 * 3 x 3 convolution, stride 1, 'VALID', bias added, by Winograd's minimal
 * filtering F(2 x 2, 3 x 3) (Lavin and Gray 2016, "Fast Algorithms for
 * Convolutional Neural Networks"): the same layer as `conv2d` on a 3 x 3
 * kernel (detect_face.py's `Network.conv(3, 3, ...)`), with 16 multiplies for
 * each 2 x 2 block of outputs and each (input, output) channel pair instead
 * of 36: 2.25x fewer. Every 3 x 3 conv of the three nets runs this way.
 *
 * For one 4 x 4 input tile d (one input channel) and one 3 x 3 kernel g:
 *
 *     Y = A^T [ (G g G^T) (.) (B^T d B) ] A        (.) = element-wise
 *
 *     B^T = | 1  0 -1  0 |    G = | 1    0    0   |    A^T = | 1  1  1  0 |
 *           | 0  1  1  0 |        | 1/2  1/2  1/2 |          | 0  1 -1 -1 |
 *           | 0 -1  1  0 |        | 1/2 -1/2  1/2 |
 *           | 0  1  0 -1 |        | 0    0    1   |
 *
 * and since A is linear the sum over input channels is taken before it: for
 * each of the 16 positions xi of a tile, M[xi] = V[xi] U[xi] is a matrix
 * product (tiles x C) by (C x OC), with V = B^T d B the transformed input
 * and U = G g G^T the transformed kernel (packed once per layer).
 *
 * Why the result is the same as the direct sum: everything is computed in
 * float64 (a JS number) and rounded to float32 once, when stored, as conv2d
 * does. Products of float32 values are exact in float64, and the float64
 * rounding errors of either order of summation are about 1e-16 of the
 * values summed, while one float32 step is 6e-8 of the result: the two
 * float64 sums round to different float32 values only when the exact sum
 * lies within about 1e-14 (relative) of a midpoint between two float32
 * values. test/kernels.test.ts compares this kernel with conv2dNaive on
 * random layers and on the real weights (all equal bar a stated handful of
 * one-step differences); the golden suite runs through it.
 *
 * The work goes in chunks of tiles small enough that their V and M stay in
 * the core's L2 cache; each chunk is transformed, multiplied position by
 * position (4 tiles x 4 output channels at a time, as conv2d blocks pixels
 * and channels), and transformed back, with the bias and PReLU applied as
 * the outputs are stored.
 * Dimension legend: see shape.ts.
 * @module
 */
import { validOut } from './shape.ts';

/** Tiles and output channels multiplied together: 4 x 4 float64 sums at a time, as in conv2d. */
const TILE_BLOCK = 4;
const OC_BLOCK = 4;

/** Positions in a 4 x 4 transformed tile. */
const XI = 16;

/** A 3 x 3 conv layer made ready for `conv3x3Winograd`, once per weights. */
export interface PackedWinograd {
  c: number;
  oc: number;
  /** (ceil(OC / OC_BLOCK), 16, C, OC_BLOCK) f64: U = G g G^T, zero past OC */
  u: Float64Array;
  /** (ceil(OC / OC_BLOCK) * OC_BLOCK,) f64, zero past OC */
  bias: Float64Array;
}

/**
 * @param w (3, 3, C, OC) HWIO f32
 * @param bias (OC,) f32
 */
export function packWinograd(w: Float32Array, bias: Float32Array, c: number, oc: number): PackedWinograd {
  const blocks = ((oc + OC_BLOCK - 1) / OC_BLOCK) | 0; // ceil, in integers
  const u = new Float64Array(XI * blocks * c * OC_BLOCK);
  const gg = new Float64Array(12); // G g, 4 x 3
  for (let ci = 0; ci < c; ci++) {
    for (let o = 0; o < oc; o++) {
      const g = (i: number, j: number) => w[((i * 3 + j) * c + ci) * oc + o];
      for (let j = 0; j < 3; j++) {
        const g0 = g(0, j), g1 = g(1, j), g2 = g(2, j);
        gg[j] = g0;
        gg[3 + j] = (g0 + g1 + g2) / 2;
        gg[6 + j] = (g0 - g1 + g2) / 2;
        gg[9 + j] = g2;
      }
      const blk = (o / OC_BLOCK) | 0, k = o % OC_BLOCK;
      for (let r = 0; r < 4; r++) {
        const a = gg[3 * r], b = gg[3 * r + 1], e = gg[3 * r + 2];
        const row = [a, (a + b + e) / 2, (a - b + e) / 2, e]; // (G g) G^T, row r
        for (let s = 0; s < 4; s++) u[((blk * XI + r * 4 + s) * c + ci) * OC_BLOCK + k] = row[s];
      }
    }
  }
  const paddedBias = new Float64Array(blocks * OC_BLOCK);
  paddedBias.set(bias.subarray(0, oc));
  return { c, oc, u, bias: paddedBias };
}

/** Scratch space reused between calls (grown when a layer needs more). */
let vBuf = new Float64Array(0);
/** Where each tile of a chunk stores: out offset of its top-left output, and which of its other 3 exist. */
let tileOut = new Int32Array(0);
let tileEdge = new Uint8Array(0);
const RIGHT = 1, DOWN = 2;
/** M for TILE_BLOCK tiles x OC_BLOCK channels: (16, TILE_BLOCK, OC_BLOCK) f64. */
const mBlock = new Float64Array(XI * TILE_BLOCK * OC_BLOCK);

/**
 * Otherwise identical to conv2d on a 3 x 3 layer (PReLU fused with `alpha`).
 * @param out (N, H - 2, W - 2, OC) NHWC f32
 * @param x (N, H, W, C) NHWC f32
 * @param alpha (OC,) f32 PReLU slopes, or null for the plain conv + bias
 */
export function conv3x3Winograd(
  out: Float32Array,
  x: Float32Array,
  n: number,
  h: number,
  width: number,
  layer: PackedWinograd,
  alpha: Float32Array | null = null,
): void {
  const { c, oc, u, bias } = layer;
  const oh = validOut(h, 3, 1);
  const ow = validOut(width, 3, 1);
  if (oh <= 0 || ow <= 0 || n <= 0) return;
  const blocks = ((oc + OC_BLOCK - 1) / OC_BLOCK) | 0;
  const tilesY = (oh + 1) >> 1, tilesX = (ow + 1) >> 1;
  const tiles = n * tilesY * tilesX;
  // Tiles per chunk: V of a chunk is 16 * T * C float64s, about 128 KiB.
  const chunk = Math.max(TILE_BLOCK, (((1024 / c) / TILE_BLOCK) | 0) * TILE_BLOCK);
  if (vBuf.length < XI * chunk * c) vBuf = new Float64Array(XI * chunk * c);
  if (tileOut.length < chunk) {
    tileOut = new Int32Array(chunk);
    tileEdge = new Uint8Array(chunk);
  }
  const v = vBuf;
  const vStride = chunk * c; // one position xi in v

  for (let first = 0; first < tiles; first += chunk) {
    const count = Math.min(chunk, tiles - first);
    locateTiles(tileOut, tileEdge, oh, ow, oc, tilesX, tilesY, first, count);
    transformInput(v, vStride, x, h, width, c, tilesX, tilesY, first, count);
    for (let t = 0; t < count; t += TILE_BLOCK) {
      for (let blk = 0; blk < blocks; blk++) {
        multiplyBlock(mBlock, v, vStride, t * c, u, blk * XI * c * OC_BLOCK, c);
        storeBlock(out, mBlock, bias, alpha, blk * OC_BLOCK, ow * oc, oc, tileOut, tileEdge, t, Math.min(TILE_BLOCK, count - t));
      }
    }
  }
}

/** For `count` tiles from `first` on: tileOut, the out offset of the tile's top-left output; tileEdge, RIGHT | DOWN when those outputs exist. */
function locateTiles(at: Int32Array, edge: Uint8Array, oh: number, ow: number, oc: number, tilesX: number, tilesY: number, first: number, count: number): void {
  for (let t = 0; t < count; t++) {
    const tile = first + t;
    const tx = tile % tilesX, rest = (tile / tilesX) | 0;
    const ty = rest % tilesY, img = (rest / tilesY) | 0;
    const y0 = 2 * ty, x0 = 2 * tx;
    at[t] = ((img * oh + y0) * ow + x0) * oc;
    edge[t] = (x0 + 1 < ow ? RIGHT : 0) | (y0 + 1 < oh ? DOWN : 0);
  }
}

function transformInput(v: Float64Array, vStride: number, x: Float32Array, h: number, width: number, c: number, tilesX: number, tilesY: number, first: number, count: number): void {
  const xRow = width * c;
  // V = B^T d B for each tile and input channel. A tile whose 2 x 2 outputs
  // pass the last row or column reads that row or column again instead of
  // the one past it: those values reach only the outputs that are not
  // stored (row 3 of d enters only row 3 of B^T d, which enters only the
  // second output row; the same for columns).
  for (let t = 0; t < count; t++) {
    const tile = first + t;
    const tx = tile % tilesX, rest = (tile / tilesX) | 0;
    const ty = rest % tilesY, img = (rest / tilesY) | 0;
    const y0 = 2 * ty, x0 = 2 * tx;
    const base = img * h * xRow;
    const r0 = base + y0 * xRow, r1 = r0 + xRow, r2 = r1 + xRow;
    const r3 = y0 + 3 < h ? r2 + xRow : r2;
    const c0 = x0 * c, c1 = c0 + c, c2 = c1 + c;
    const c3 = x0 + 3 < width ? c2 + c : c2;
    let dst = t * c;
    for (let ci = 0; ci < c; ci++, dst++) {
      // B^T d, by rows: b0 = d0 - d2, b1 = d1 + d2, b2 = d2 - d1, b3 = d1 - d3.
      const d00 = x[r0 + c0 + ci], d01 = x[r0 + c1 + ci], d02 = x[r0 + c2 + ci], d03 = x[r0 + c3 + ci];
      const d10 = x[r1 + c0 + ci], d11 = x[r1 + c1 + ci], d12 = x[r1 + c2 + ci], d13 = x[r1 + c3 + ci];
      const d20 = x[r2 + c0 + ci], d21 = x[r2 + c1 + ci], d22 = x[r2 + c2 + ci], d23 = x[r2 + c3 + ci];
      const d30 = x[r3 + c0 + ci], d31 = x[r3 + c1 + ci], d32 = x[r3 + c2 + ci], d33 = x[r3 + c3 + ci];
      const b00 = d00 - d20, b01 = d01 - d21, b02 = d02 - d22, b03 = d03 - d23;
      const b10 = d10 + d20, b11 = d11 + d21, b12 = d12 + d22, b13 = d13 + d23;
      const b20 = d20 - d10, b21 = d21 - d11, b22 = d22 - d12, b23 = d23 - d13;
      const b30 = d10 - d30, b31 = d11 - d31, b32 = d12 - d32, b33 = d13 - d33;
      // (B^T d) B, by columns, the same combinations.
      v[dst] = b00 - b02;
      v[dst + vStride] = b01 + b02;
      v[dst + 2 * vStride] = b02 - b01;
      v[dst + 3 * vStride] = b01 - b03;
      v[dst + 4 * vStride] = b10 - b12;
      v[dst + 5 * vStride] = b11 + b12;
      v[dst + 6 * vStride] = b12 - b11;
      v[dst + 7 * vStride] = b11 - b13;
      v[dst + 8 * vStride] = b20 - b22;
      v[dst + 9 * vStride] = b21 + b22;
      v[dst + 10 * vStride] = b22 - b21;
      v[dst + 11 * vStride] = b21 - b23;
      v[dst + 12 * vStride] = b30 - b32;
      v[dst + 13 * vStride] = b31 + b32;
      v[dst + 14 * vStride] = b32 - b31;
      v[dst + 15 * vStride] = b31 - b33;
    }
  }

}

/**
 * M[xi] = V[xi] U[xi] for TILE_BLOCK tiles and one block of OC_BLOCK output
 * channels, each of the 16 positions in turn: 16 float64 sums over C.
 * A group past the chunk's last tile multiplies stale rows of v; those
 * sums are never stored.
 * @param m (16, TILE_BLOCK, OC_BLOCK) f64, written
 * @param v0 offset of the group's first tile in v (position 0)
 * @param u0 offset of the channel block in u (position 0)
 */
function multiplyBlock(m: Float64Array, v: Float64Array, vStride: number, v0: number, u: Float64Array, u0: number, c: number): void {
  for (let xi = 0; xi < XI; xi++) {
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
 * Y = A^T M A + bias for `count` tiles (from t0 on in the chunk) and channels o0.. of
 * one block, rounded to float32, PReLU as in conv2d, only the outputs inside
 * OH x OW and channels below OC stored.
 */
function storeBlock(
  out: Float32Array,
  m: Float64Array,
  bias: Float64Array,
  alpha: Float32Array | null,
  o0: number,
  rowStride: number,
  oc: number,
  tileOut: Int32Array,
  tileEdge: Uint8Array,
  t0: number,
  count: number,
): void {
  const kEnd = Math.min(OC_BLOCK, oc - o0);
  const S = TILE_BLOCK * OC_BLOCK; // one position xi in m
  for (let t = 0; t < count; t++) {
    const o00 = tileOut[t0 + t] + o0, o10 = o00 + rowStride;
    const edge = tileEdge[t0 + t];
    const right = (edge & RIGHT) !== 0, down = (edge & DOWN) !== 0;
    for (let k = 0; k < kEnd; k++) {
      const s = t * OC_BLOCK + k;
      const m0 = m[s], m1 = m[s + S], m2 = m[s + 2 * S], m3 = m[s + 3 * S];
      const m4 = m[s + 4 * S], m5 = m[s + 5 * S], m6 = m[s + 6 * S], m7 = m[s + 7 * S];
      const m8 = m[s + 8 * S], m9 = m[s + 9 * S], m10 = m[s + 10 * S], m11 = m[s + 11 * S];
      const m12 = m[s + 12 * S], m13 = m[s + 13 * S], m14 = m[s + 14 * S], m15 = m[s + 15 * S];
      // A^T M, by rows: a0 = M0 + M1 + M2, a1 = M1 - M2 - M3; then the same by columns.
      const a00 = m0 + m4 + m8, a01 = m1 + m5 + m9, a02 = m2 + m6 + m10, a03 = m3 + m7 + m11;
      const a10 = m4 - m8 - m12, a11 = m5 - m9 - m13, a12 = m6 - m10 - m14, a13 = m7 - m11 - m15;
      const bo = bias[o0 + k];
      const am = alpha === null ? 0 : alpha[o0 + k] - 1;
      let y = Math.fround(a00 + a01 + a02 + bo);
      out[o00 + k] = y * (1 + am * +(y < 0));
      if (right) {
        y = Math.fround(a01 - a02 - a03 + bo);
        out[o00 + oc + k] = y * (1 + am * +(y < 0));
      }
      if (down) {
        y = Math.fround(a10 + a11 + a12 + bo);
        out[o10 + k] = y * (1 + am * +(y < 0));
        if (right) {
          y = Math.fround(a11 - a12 - a13 + bo);
          out[o10 + oc + k] = y * (1 + am * +(y < 0));
        }
      }
    }
  }
}
