/**
 * Softmax along the last axis: detect_face.py's `Network.softmax` (`prob1`),
 * which TF runs as four float32 ops: reduce_max, exp(x - max), reduce_sum,
 * divide. Each step here rounds to float32 where TF's does (Math.fround), so
 * the result differs from TF's only by the exp implementation (Math.exp,
 * rounded once, against TF/numpy's float32 exp: a unit in the last place).
 * Dimension legend: see shape.ts.
 * @module
 */

/**
 * @param out (rows, cols) f32; may be x itself (in place)
 * @param x (rows, cols) f32: for P-Net's map (OH, OW, 2), rows = OH * OW
 */
export function softmax(out: Float32Array, x: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols; // x[r, 0]
    let m = -Infinity;
    for (let j = 0; j < cols; j++) {
      const v = x[base + j];
      if (v > m) m = v;
    }
    // out holds exp(x - max) until the sum is known.
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.fround(Math.exp(Math.fround(x[base + j] - m)));
      out[base + j] = e;
      sum = Math.fround(sum + e);
    }
    for (let j = 0; j < cols; j++) out[base + j] = out[base + j] / sum;
  }
}
