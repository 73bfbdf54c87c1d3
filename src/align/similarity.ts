/**
 * The least-squares similarity transform between two point sets (Umeyama,
 * "Least-squares estimation of transformation parameters between two point
 * patterns", IEEE TPAMI 13(4), 1991), in 2-D: the rotation R, uniform scale s
 * and translation t minimising sum_i |dst_i - (s R src_i + t)|^2. This is the
 * estimate that 5-point face alignment uses (skimage's SimilarityTransform
 * .estimate, insightface's estimate_norm).
 *
 * In 2-D, s R = [a -b; b a] for some (a, b), and every (a, b) is some s >= 0
 * and rotation, so the problem is linear least squares in (a, b, tx, ty).
 * With x_i = src_i - mean(src), y_i = dst_i - mean(dst):
 *
 *   a = sum(x_i . y_i) / sum|x_i|^2       (dot products)
 *   b = sum(x_i × y_i) / sum|x_i|^2       (cross products x1 y2 - x2 y1)
 *   t = mean(dst) - [a -b; b a] mean(src)
 *
 * This is Umeyama's answer, reflection case included. Umeyama takes the SVD
 * U D V^T of the covariance Σ = (1/N) sum y_i x_i^T, and when det Σ < 0 flips
 * the sign of the last singular value (S = diag(1, -1)) so that R = U S V^T is
 * a rotation, never a reflection; then s = trace(D S) / σ_x^2. For a 2x2
 * Σ = [p q; r u] with singular values d1, d2: (d1 + sign(det Σ) d2)^2 =
 * (p + u)^2 + (r - q)^2, and p + u, r - q are the dot and cross sums above
 * over N, so both give the same s and angle. A point set matched to its
 * mirror image thus gets the best rotation, not the mirror.
 * @module
 */
import { MtcnnError } from '../errors.ts';
import type { Point } from '../types.ts';

/**
 * A 2-D affine map as the top two rows of its 3x3 matrix, row-major:
 * [m00, m01, m02, m10, m11, m12] maps (x, y) to
 * (m00 x + m01 y + m02, m10 x + m11 y + m12). Same layout as OpenCV's 2x3
 * warpAffine matrix.
 */
export type Affine = [m00: number, m01: number, m02: number, m10: number, m11: number, m12: number];

const bad = (message: string) => new MtcnnError('BAD_OPTIONS', message);

/**
 * The similarity (rotation, uniform scale, translation; no reflection, no
 * shear) that best maps `src` onto `dst` in the least-squares sense.
 * @param src N >= 2 points
 * @param dst N points, dst[i] the target of src[i]
 * @returns the forward map src -> dst as [a, -b, tx, b, a, ty]; its scale is
 *   hypot(a, b) and its angle atan2(b, a)
 * @throws MtcnnError('BAD_OPTIONS') when the lengths differ, N < 2, a
 *   coordinate is not finite, or all src points coincide (no scale fits)
 * @example similarityTransform([[0, 0], [1, 0]], [[1, 1], [1, 3]]) // [0, -2, 1, 2, 0, 1]: x2, +90°, +(1, 1)
 */
export function similarityTransform(src: readonly Point[], dst: readonly Point[]): Affine {
  const n = src.length;
  if (n !== dst.length) throw bad(`similarityTransform: ${n} source points but ${dst.length} destination points`);
  if (n < 2) throw bad(`similarityTransform: needs at least 2 point pairs, got ${n}`);
  let msx = 0,
    msy = 0,
    mdx = 0,
    mdy = 0;
  for (let i = 0; i < n; i++) {
    const [sx, sy] = src[i];
    const [dx, dy] = dst[i];
    if (!Number.isFinite(sx + sy + dx + dy)) throw bad(`similarityTransform: point pair ${i} is not finite`);
    msx += sx;
    msy += sy;
    mdx += dx;
    mdy += dy;
  }
  msx /= n;
  msy /= n;
  mdx /= n;
  mdy /= n;
  let dot = 0, // sum x_i . y_i
    cross = 0, // sum x_i × y_i
    norm = 0; // sum |x_i|^2, N times Umeyama's σ_x^2
  for (let i = 0; i < n; i++) {
    const x1 = src[i][0] - msx,
      x2 = src[i][1] - msy;
    const y1 = dst[i][0] - mdx,
      y2 = dst[i][1] - mdy;
    dot += x1 * y1 + x2 * y2;
    cross += x1 * y2 - x2 * y1;
    norm += x1 * x1 + x2 * x2;
  }
  if (!(norm > 0)) throw bad('similarityTransform: all source points coincide, so no scale or rotation fits');
  const a = dot / norm;
  const b = cross / norm;
  return [a, -b, mdx - (a * msx - b * msy), b, a, mdy - (b * msx + a * msy)];
}

/** The inverse of an invertible affine map (for inverse-mapping warps). */
export function invertAffine(m: Affine): Affine {
  const [m00, m01, m02, m10, m11, m12] = m;
  const det = m00 * m11 - m01 * m10;
  if (det === 0 || !Number.isFinite(det)) throw bad(`invertAffine: the map [${m.join(', ')}] is not invertible`);
  const i00 = m11 / det,
    i01 = -m01 / det,
    i10 = -m10 / det,
    i11 = m00 / det;
  return [i00, i01, -(i00 * m02 + i01 * m12), i10, i11, -(i10 * m02 + i11 * m12)];
}
