/**
 * src/align: the least-squares similarity (on synthetic points with known
 * answers, and against an independent SVD-based Umeyama), warpAffine (on
 * synthetic images whose warp is known in closed form), the template,
 * alignFace on a real photo, and facenet's margin crop (pickFace, marginBox,
 * cropFace, imresize) on constructed faces with hand-computed expectations.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector } from '../src/detect.ts';
import { MtcnnError } from '../src/errors.ts';
import {
  alignFace,
  cropFace,
  imresize,
  marginBox,
  pickFace,
  similarityTransform,
  TEMPLATE_112,
  templateFor,
  warpAffine,
  type Affine,
} from '../src/index.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import type { Point, RgbImage } from '../src/types.ts';
import { loadPhoto } from './helpers/photos.ts';

/** Deterministic uniform [0, 1) (LCG), so every run sees the same cases. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** (a, b, tx, ty) of a similarity: s R = [a -b; b a]. */
const similarity = (s: number, theta: number, tx: number, ty: number): Affine => [
  s * Math.cos(theta),
  -s * Math.sin(theta),
  tx,
  s * Math.sin(theta),
  s * Math.cos(theta),
  ty,
];
const apply = (m: Affine, [x, y]: Point): Point => [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];

function assertMatrix(actual: Affine, expected: Affine, tol: number, label: string) {
  for (let i = 0; i < 6; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${label}: m[${i}] = ${actual[i]}, expected ${expected[i]} (±${tol})`);
  }
}

/** Sum of squared residuals |dst - m(src)|^2. */
function residual(m: Affine, src: Point[], dst: Point[]): number {
  let r = 0;
  src.forEach((p, i) => {
    const [x, y] = apply(m, p);
    r += (dst[i][0] - x) ** 2 + (dst[i][1] - y) ** 2;
  });
  return r;
}

/**
 * Umeyama's algorithm as the paper writes it, by matrices: covariance Σ, its
 * SVD (through the eigenvectors of Σ^T Σ), S = diag(1, ±1) by the sign of
 * det Σ, R = U S V^T, c = trace(D S) / σ_x^2, t = μ_y - c R μ_x. An
 * independent route to the answer src/align/similarity.ts computes in closed form.
 */
function umeyama(src: Point[], dst: Point[]): Affine {
  const n = src.length;
  const mean = (ps: Point[]): Point => [ps.reduce((s, p) => s + p[0], 0) / n, ps.reduce((s, p) => s + p[1], 0) / n];
  const [mx, my] = mean(src);
  const [nx, ny] = mean(dst);
  let s00 = 0, s01 = 0, s10 = 0, s11 = 0, varX = 0; // Σ = (1/n) sum y x^T
  for (let i = 0; i < n; i++) {
    const x0 = src[i][0] - mx, x1 = src[i][1] - my, y0 = dst[i][0] - nx, y1 = dst[i][1] - ny;
    s00 += y0 * x0; s01 += y0 * x1; s10 += y1 * x0; s11 += y1 * x1;
    varX += x0 * x0 + x1 * x1;
  }
  [s00, s01, s10, s11, varX] = [s00 / n, s01 / n, s10 / n, s11 / n, varX / n];
  // Σ^T Σ = [[α, β], [β, γ]]; its eigenvectors are V's columns, sqrt of its eigenvalues D.
  const alpha = s00 * s00 + s10 * s10, beta = s00 * s01 + s10 * s11, gamma = s01 * s01 + s11 * s11;
  const m = (alpha + gamma) / 2, d = Math.hypot((alpha - gamma) / 2, beta);
  const [l1, l2] = [m + d, m - d];
  let v1: Point = beta !== 0 ? [l1 - gamma, beta] : alpha >= gamma ? [1, 0] : [0, 1];
  const len = Math.hypot(v1[0], v1[1]);
  v1 = [v1[0] / len, v1[1] / len];
  const v2: Point = [-v1[1], v1[0]];
  const d1 = Math.sqrt(l1), d2 = Math.sqrt(Math.max(l2, 0));
  const u1: Point = [(s00 * v1[0] + s01 * v1[1]) / d1, (s10 * v1[0] + s11 * v1[1]) / d1];
  const u2: Point = [(s00 * v2[0] + s01 * v2[1]) / d2, (s10 * v2[0] + s11 * v2[1]) / d2];
  const sign = s00 * s11 - s01 * s10 < 0 ? -1 : 1; // S = diag(1, sign)
  // R = u1 v1^T + sign u2 v2^T
  const r00 = u1[0] * v1[0] + sign * u2[0] * v2[0], r01 = u1[0] * v1[1] + sign * u2[0] * v2[1];
  const r10 = u1[1] * v1[0] + sign * u2[1] * v2[0], r11 = u1[1] * v1[1] + sign * u2[1] * v2[1];
  const c = (d1 + sign * d2) / varX;
  return [c * r00, c * r01, nx - c * (r00 * mx + r01 * my), c * r10, c * r11, ny - c * (r10 * mx + r11 * my)];
}

const Similarity = suite('similarityTransform');

Similarity('recovers a known rotation, scale and translation exactly (1e-9)', () => {
  const src: Point[] = [[38.3, 51.7], [73.5, 51.5], [56.0, 71.7], [41.5, 92.4], [70.7, 92.2]];
  const cases: [number, number, number, number][] = [
    [1.7, 0.6, 12.5, -3.25],
    [0.25, -2.9, -400, 1000],
    [3, Math.PI, 0, 0],
    [1, 0, 7, 7],
  ];
  for (const [s, theta, tx, ty] of cases) {
    const truth = similarity(s, theta, tx, ty);
    const dst = src.map((p) => apply(truth, p));
    assertMatrix(similarityTransform(src, dst), truth, 1e-9, `s=${s} θ=${theta}`);
  }
  // Two points determine a similarity: (0,0)->(1,1), (1,0)->(1,3) is x2, +90°, +(1,1).
  assertMatrix(similarityTransform([[0, 0], [1, 0]], [[1, 1], [1, 3]]), [0, -2, 1, 2, 0, 1], 1e-12, 'two points');
});

Similarity('random transforms of random point sets are recovered (1e-9)', () => {
  const r = rng(7);
  for (let t = 0; t < 50; t++) {
    const n = 2 + Math.floor(r() * 8);
    const src: Point[] = Array.from({ length: n }, () => [r() * 200 - 50, r() * 200 - 50]);
    const truth = similarity(0.1 + r() * 4, (r() * 2 - 1) * Math.PI, r() * 500 - 250, r() * 500 - 250);
    assertMatrix(similarityTransform(src, src.map((p) => apply(truth, p))), truth, 1e-9, `case ${t}`);
  }
});

Similarity('with noise: the least-squares optimum (zero gradient, no better neighbour, equal to Umeyama)', () => {
  const r = rng(11);
  for (let t = 0; t < 20; t++) {
    const src: Point[] = Array.from({ length: 5 }, () => [r() * 100, r() * 100]);
    const truth = similarity(0.5 + r(), r() * 6, r() * 50, r() * 50);
    const dst = src.map((p): Point => {
      const [x, y] = apply(truth, p);
      return [x + (r() - 0.5) * 6, y + (r() - 0.5) * 6];
    });
    const m = similarityTransform(src, dst);
    // The residual r_i = dst_i - m(src_i) is orthogonal to every direction the
    // family can move in: d/dtx, d/dty (sum r_i = 0), d/da (r_i . src_i), d/db (r_i × src_i).
    let gx = 0, gy = 0, ga = 0, gb = 0;
    src.forEach((p, i) => {
      const q = apply(m, p);
      const rx = dst[i][0] - q[0], ry = dst[i][1] - q[1];
      gx += rx; gy += ry; ga += rx * p[0] + ry * p[1]; gb += ry * p[0] - rx * p[1];
    });
    for (const g of [gx, gy, ga / 100, gb / 100]) assert.ok(Math.abs(g) < 1e-9, `case ${t}: gradient ${g}`);
    // No nearby similarity, nor the one that made the data, fits better.
    const best = residual(m, src, dst);
    assert.ok(best <= residual(truth, src, dst), `case ${t}: worse than the generating transform`);
    for (let k = 0; k < 20; k++) {
      const [da, db, dx, dy] = [r() - 0.5, r() - 0.5, r() - 0.5, r() - 0.5].map((v) => v * 1e-3);
      const near: Affine = [m[0] + da, m[1] - db, m[2] + dx, m[3] + db, m[4] + da, m[5] + dy];
      assert.ok(best <= residual(near, src, dst), `case ${t}: a perturbed transform fits better`);
    }
    assertMatrix(m, umeyama(src, dst), 1e-9, `case ${t} vs Umeyama`);
  }
});

Similarity('reflection: a mirrored point set gets the best rotation, never a mirror (Umeyama S = diag(1, -1))', () => {
  // (±2, 0), (0, ±1) around (10, 20), mirrored top to bottom. Sums over the
  // centred points: x.y = Σ(x² - y²) = 8 - 2 = 6, x×y = 0, |x|² = 10, so
  // a = 0.6, b = 0 (no rotation, scale 0.6), t = (10, -20) - 0.6 (10, 20) = (4, -32).
  const src: Point[] = [[12, 20], [8, 20], [10, 21], [10, 19]];
  const dst: Point[] = src.map(([x, y]) => [x, -y]);
  const m = similarityTransform(src, dst);
  assertMatrix(m, [0.6, 0, 4, 0, 0.6, -32], 1e-12, 'mirror');
  assert.ok(m[0] * m[4] - m[1] * m[3] > 0, 'determinant must be positive (a rotation)');
  assertMatrix(m, umeyama(src, dst), 1e-12, 'mirror vs Umeyama');
  // A symmetric set against its mirror: no rotation helps, the best scale is 0.
  const cross: Point[] = [[1, 0], [-1, 0], [0, 1], [0, -1]];
  assertMatrix(similarityTransform(cross, cross.map(([x, y]) => [-x + 5, y + 5])), [0, -0, 5, 0, 0, 5], 1e-12, 'symmetric');
  // Random mirrored sets with noise agree with the matrix route.
  const r = rng(3);
  for (let t = 0; t < 20; t++) {
    const src2: Point[] = Array.from({ length: 5 }, () => [r() * 100, r() * 100]);
    const dst2 = src2.map(([x, y]): Point => [-x + r(), y + r()]);
    const m2 = similarityTransform(src2, dst2);
    assert.ok(m2[0] * m2[4] - m2[1] * m2[3] >= 0, `case ${t}: reflection returned`);
    assertMatrix(m2, umeyama(src2, dst2), 1e-9, `mirrored case ${t} vs Umeyama`);
  }
});

Similarity('refuses mismatched, too few or coincident points', () => {
  const err = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof MtcnnError && re.test(e.message));
  err(() => similarityTransform([[0, 0], [1, 1]], [[0, 0]]), /2 source points but 1/);
  err(() => similarityTransform([[0, 0]], [[0, 0]]), /at least 2/);
  err(() => similarityTransform([[3, 3], [3, 3]], [[0, 0], [1, 1]]), /coincide/);
  err(() => similarityTransform([[0, NaN], [1, 1]], [[0, 0], [1, 1]]), /pair 0 is not finite/);
});

Similarity.run();

const Warp = suite('warpAffine');

/** A w x h RGB image, channel c of pixel (x, y) = f(x, y, c). */
function makeImage(w: number, h: number, f: (x: number, y: number, c: number) => number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  return { width: w, height: h, data };
}
const at = (img: RgbImage, x: number, y: number, c: number) => img.data[(y * img.width + x) * 3 + c];

Warp('integer translation moves pixels exactly, zero where nothing maps', () => {
  const r = rng(5);
  const img = makeImage(20, 15, () => 1 + Math.floor(r() * 255));
  const out = warpAffine(img, [1, 0, 5, 0, 1, 3], 18, 16); // (x, y) -> (x + 5, y + 3)
  for (let y = 0; y < 16; y++) {
    for (let x = 0; x < 18; x++) {
      for (let c = 0; c < 3; c++) {
        const sx = x - 5, sy = y - 3;
        const expected = sx >= 0 && sx < 20 && sy >= 0 && sy < 15 ? at(img, sx, sy, c) : 0;
        assert.is(at(out, x, y, c), expected, `(${x}, ${y}, ${c})`);
      }
    }
  }
});

Warp('the map goes from source to output: a bright pixel lands where m sends it', () => {
  const img = makeImage(40, 40, (x, y) => (x === 10 && y === 20 ? 255 : 0));
  // +90° and x2 about the origin, then +(50, 3): (10, 20) -> (-40 + 50, 20 + 3) = (10, 23).
  const out = warpAffine(img, [0, -2, 50, 2, 0, 3], 60, 60);
  assert.is(at(out, 10, 23, 0), 255);
  // Scale 2: the neighbours one output pixel away sample half a source pixel off: 127.5 rounds up.
  assert.is(at(out, 11, 23, 1), 128);
  assert.is(at(out, 10, 24, 2), 128);
  assert.is(at(out, 12, 23, 0), 0);
});

Warp('bilinear sampling reproduces a linear image under a known similarity', () => {
  // f_c(x, y) = 20 + 2x + 3y + 10c is linear, so its bilinear interpolation is
  // f itself; output pixel p must hold round(f(m^-1(p))), with m^-1 written out
  // by hand: for s R = [a -b; b a], m^-1(p) = [a b; -b a] (p - t) / (a² + b²).
  const img = makeImage(50, 40, (x, y, c) => 20 + 2 * x + 3 * y + 10 * c);
  const m = similarity(1.3, 0.5, 15, -20);
  const [a, , tx, b, , ty] = m;
  const out = warpAffine(img, m, 70, 60);
  let inside = 0;
  for (let y = 0; y < 60; y++) {
    for (let x = 0; x < 70; x++) {
      const k = a * a + b * b;
      const sx = (a * (x - tx) + b * (y - ty)) / k, sy = (-b * (x - tx) + a * (y - ty)) / k;
      for (let c = 0; c < 3; c++) {
        if (sx >= 0 && sx <= 49 && sy >= 0 && sy <= 39) {
          assert.is(at(out, x, y, c), Math.floor(20 + 2 * sx + 3 * sy + 10 * c + 0.5), `(${x}, ${y}, ${c})`);
          inside++;
        } else if (sx < -1 || sy < -1 || sx > 50 || sy > 40) {
          assert.is(at(out, x, y, c), 0, `outside (${x}, ${y}, ${c})`);
        }
      }
    }
  }
  assert.ok(inside > 3000, `only ${inside} samples fell inside the image`);
});

Warp('refuses a singular map and bad sizes', () => {
  const img = makeImage(4, 4, () => 0);
  assert.throws(() => warpAffine(img, [1, 2, 0, 2, 4, 0], 4, 4), /not invertible/);
  assert.throws(() => warpAffine(img, [1, 0, 0, 0, 1, 0], 0, 4), /positive integers/);
  assert.throws(() => warpAffine({ width: 4, height: 4, data: new Uint8Array(5) }, [1, 0, 0, 0, 1, 0], 4, 4), /5 bytes/);
});

Warp.run();

const Align = suite('template and alignFace');

Align('templateFor: 112 is the template, 96x112 shifts x by -8, a square side S scales by S/112', () => {
  assert.equal(templateFor(112), TEMPLATE_112.map(([x, y]) => [x, y]));
  const narrow = templateFor(96, 112);
  assert.equal(narrow[0], [38.2946 - 8, 51.6963]);
  assert.equal(narrow[4], [70.7299 - 8, 92.2041]);
  const big = templateFor(224);
  TEMPLATE_112.forEach(([x, y], i) => assert.equal(big[i], [2 * x, 2 * y]));
  assert.throws(() => templateFor(0), /positive/);
});

const detector = new Detector(loadWeightsFile());

Align('alignFace on a real photo: the face re-detected in the crop has its landmarks on the template', () => {
  for (const name of ['hopkins1', 'angry']) {
    const photo = loadPhoto(name);
    const faces = detector.detect(photo);
    assert.is(faces.length, 1, `${name}: one face`);
    const crop = alignFace(photo, faces[0]);
    assert.is(crop.width, 112);
    assert.is(crop.height, 112);
    // An independent look at the crop: detect again, compare where the eyes,
    // nose and mouth are now with where the template puts them.
    const again = detector.detect(crop);
    assert.is(again.length, 1, `${name}: one face in the aligned crop`);
    const lm = again[0].landmarks;
    [lm.leftEye, lm.rightEye, lm.nose, lm.mouthLeft, lm.mouthRight].forEach(([x, y], i) => {
      const [tx, ty] = TEMPLATE_112[i];
      assert.ok(Math.hypot(x - tx, y - ty) < 4, `${name}: landmark ${i} at (${x}, ${y}), template (${tx}, ${ty})`);
    });
  }
});

Align('alignFace scales with size, and refuses a bad size', () => {
  const photo = loadPhoto('hopkins1');
  const [face] = detector.detect(photo);
  const crop = alignFace(photo, face, 160);
  assert.is(crop.data.length, 160 * 160 * 3);
  assert.throws(() => alignFace(photo, face, 0), /size must be a positive integer/);
});

Align.run();

const Crop = suite('facenet margin crop');

/** A face record with only a box, enough for pickFace and cropFace. */
const boxed = (x1: number, y1: number, x2: number, y2: number) => ({ box: [x1, y1, x2, y2] as [number, number, number, number] });

Crop('pickFace: largest area minus twice the squared distance to the centre', () => {
  // Image 200x100: centre (100, 50).
  // A: 40x25 = 1000 at centre (120, 50): 1000 - 2 * 400 = 200 (with weight 1 it would win: 600)
  // B: 20x25 = 500 at the centre: 500
  assert.is(pickFace([boxed(100, 37.5, 140, 62.5), boxed(90, 37.5, 110, 62.5)], 200, 100), 1);
  // C: 60x60 = 3600 at (30, 30): 3600 - 2 * (70² + 20²) = -7000; D: 60x60 at the centre: 3600.
  assert.is(pickFace([boxed(0, 0, 60, 60), boxed(70, 20, 130, 80), boxed(90, 40, 110, 60)], 200, 100), 1);
  // The centre is (width / 2, height / 2), not swapped: E is centred on (100, 50), F on (50, 100).
  assert.is(pickFace([boxed(40, 90, 60, 110), boxed(90, 40, 110, 60)], 200, 100), 1);
  // Equal scores: the first (np.argmax). None: -1.
  assert.is(pickFace([boxed(90, 40, 110, 60), boxed(90, 40, 110, 60)], 200, 100), 0);
  assert.is(pickFace([], 200, 100), -1);
});

Crop('marginBox: margin/2 per side, clipped at 0 and at the image size, cast to int32 (truncation)', () => {
  // 10.7 - 22 < 0 -> 0; 20.2 - 22 < 0 -> 0; 110.9 + 22 = 132.9 -> 132; 140.6 + 22 = 162.6 > 150 -> 150.
  assert.equal(marginBox([10.7, 20.2, 110.9, 140.6], 44, 200, 150), [0, 0, 132, 150]);
  // Odd margin: 22.5 per side. 50.9 - 22.5 = 28.4 -> 28; 60.5 - 22.5 = 38; 80.2 + 22.5 = 102.7 -> 102; 90.99 + 22.5 = 113.49 -> 113.
  assert.equal(marginBox([50.9, 60.5, 80.2, 90.99], 45, 200, 150), [28, 38, 102, 113]);
  // Truncation toward zero, not floor, where a coordinate is negative: -60.5 -> -60.
  assert.equal(marginBox([-100, -100, -60.5, -50], 0, 200, 150), [0, 0, -60, -50]);
});

Crop('cropFace: the margin box cut out exactly, then resized', () => {
  const img = makeImage(10, 8, (x, y, c) => 100 * c + 10 * y + x);
  // [3.6, 2.2, 7.9, 6.7] grown by 1 per side: [2.6, 1.2, 8.9, 7.7] -> [2, 1, 8, 7], 6x6, so size 6 keeps every pixel.
  const { image, box } = cropFace(img, boxed(3.6, 2.2, 7.9, 6.7), { margin: 2, size: 6 });
  assert.equal(box, [2, 1, 8, 7]);
  for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) for (let c = 0; c < 3; c++) assert.is(at(image, x, y, c), at(img, x + 2, y + 1, c));
  // Defaults: margin 44, size 182.
  const big = cropFace(makeImage(300, 300, () => 7), boxed(100, 100, 200, 200));
  assert.equal(big.box, [78, 78, 222, 222]);
  assert.is(big.image.width, 182);
  assert.ok(big.image.data.every((v) => v === 7));
  // A box wholly left of the image: nothing to cut.
  assert.throws(
    () => cropFace(img, boxed(-100, -100, -60.5, -50), { margin: 0 }),
    (e: unknown) => e instanceof MtcnnError && e.code === 'DEGENERATE_CROP',
  );
});

Crop('imresize: PIL bilinear, a triangle filter widened when shrinking, rows then columns in bytes', () => {
  const line = (values: number[]) => ({ width: values.length, height: 1, data: Uint8Array.from(values.flatMap((v) => [v, 0, 0])) });
  const reds = (img: RgbImage) => Array.from(img.data.filter((_, i) => i % 3 === 0));
  // 4 -> 2: output 0 is centred at 1.0, its filter spans 2 pixels each way:
  // pixel centres 0.5, 1.5, 2.5 get 0.75, 0.75, 0.25 -> 3/7, 3/7, 1/7.
  // (0*3 + 70*3 + 140) / 7 = 50 and (70 + 140*3 + 210*3) / 7 = 160. (2x2 bilinear would give 70 and 175.)
  assert.equal(reds(imresize(line([0, 70, 140, 210]), 2, 1)), [50, 160]);
  // 2 -> 4: centres 0.25, 0.75, 1.25, 1.75: weights (1), (.75, .25), (.25, .75), (1).
  assert.equal(reds(imresize(line([0, 100]), 4, 1)), [0, 25, 75, 100]);
  // 2 -> 1: the mean, 15.5, rounds half up.
  assert.equal(reds(imresize(line([10, 21]), 1, 1)), [16]);
  // 2x2 -> 1x1: rows first, rounded to bytes: (0, 1) -> 0.5 -> 1, (1, 2) -> 1.5 -> 2; then (1 + 2) / 2 -> 2.
  // One 2-D mean would give 1.
  const square = { width: 2, height: 2, data: Uint8Array.from([0, 0, 0, 1, 0, 0, 1, 0, 0, 2, 0, 0]) };
  assert.equal(reds(imresize(square, 1, 1)), [2]);
  // Channels stay apart, and an unchanged size is a copy.
  const img = makeImage(5, 3, (x, y, c) => 40 * c + x + y);
  const same = imresize(img, 5, 3);
  assert.equal(same.data, img.data);
  assert.is.not(same.data, img.data);
});

Crop.run();
