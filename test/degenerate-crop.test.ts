/**
 * The crops of stages 2 and 3 where the reference has no result, or an odd
 * one: zero or negative crop sizes, boxes wholly outside the image (numpy's
 * negative slice bounds), and numpy broadcasting a 1-pixel source slice.
 *
 * Every expected outcome below was found by running detect_face.py's own
 * lines (pad(), then `tmp = np.zeros(...)`, `tmp[dy-1:edy, dx-1:edx, :] =
 * img[y-1:ey, x-1:ex, :]` and the `return np.empty()` test) with numpy 2.4
 * on this 10x6 image, and is written out here by hand: "null" is where numpy
 * raises (ValueError, or np.empty()'s TypeError, or an empty image handed to
 * cv2.resize); the project drops that candidate (src/pipeline/crop.ts).
 * Then the stage functions run with such boxes injected among real ones: the
 * detection still returns, and equals the detection without them.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector } from '../src/index.ts';
import { toRgb } from '../src/image/prepare.ts';
import { pad, type BoxArray, type PadResult } from '../src/pipeline/boxes.ts';
import { cropBatch, cropCandidate } from '../src/pipeline/crop.ts';
import { computeScales } from '../src/pipeline/pyramid.ts';
import { stage1 } from '../src/pipeline/stage1.ts';
import { refine, runRnet } from '../src/pipeline/stage2.ts';
import { finish, fixAndPad, runOnet } from '../src/pipeline/stage3.ts';
import type { TraceCall } from '../src/pipeline/trace.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import { loadPhoto } from './helpers/photos.ts';

const Crop = suite('degenerate-crop');

const W = 10,
  H = 6;
/** Pixel (y, x) (0-based) of the test image: three values that name its row and column. */
const px = (y: number, x: number) => [y * 10 + x, 100 + y, 200 + x];
const IMG = (() => {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set(px(y, x), (y * W + x) * 3);
  return { width: W, height: H, data };
})();

/** A crop as numpy left it: size, and which crop pixel holds which image pixel (the rest is zero). */
interface Expected {
  h: number;
  w: number;
  from?: (r: number, c: number) => [number, number] | null; // image (y, x) at crop (r, c), or null for 0
}
const zeros = (h: number, w: number): Expected => ({ h, w });

function cropOf(box: [number, number, number, number]): Float64Array | null {
  const p = pad({ rows: 1, cols: 5, data: Float64Array.from([...box, 0.9]) }, W, H);
  return cropCandidate(IMG, p, 0);
}

function expectCrop(label: string, got: Float64Array | null, e: Expected | null): void {
  if (e === null) {
    assert.is(got, null, `${label}: numpy raises, the candidate must be dropped`);
    return;
  }
  assert.ok(got !== null, `${label}: numpy gives a ${e.h}x${e.w} crop, got null`);
  assert.is(got.length, e.h * e.w * 3, `${label}: crop size`);
  for (let r = 0; r < e.h; r++) {
    for (let c = 0; c < e.w; c++) {
      const at = e.from?.(r, c) ?? null;
      const want = at === null ? [0, 0, 0] : px(at[0], at[1]);
      const i = (r * e.w + c) * 3;
      assert.equal([got[i], got[i + 1], got[i + 2]], want, `${label}: crop pixel (${r}, ${c})`);
    }
  }
}

Crop('zero and negative crop sizes are dropped (np.empty(), negative np.zeros, empty cv2.resize)', () => {
  expectCrop('tmpw 0', cropOf([2, 1, 1, 4]), null);
  expectCrop('tmpw -1', cropOf([2, 1, 0, 4]), null);
  expectCrop('tmph 0', cropOf([1, 3, 4, 2]), null);
  expectCrop('tmph -3', cropOf([1, 3, 4, -1]), null);
  expectCrop('tmpw 0 and tmph 0', cropOf([1, 3, 0, 2]), null);
  // the smallest valid crop, for contrast: 1x1, image pixel (1, 2)
  expectCrop('1x1', cropOf([3, 2, 3, 2]), { h: 1, w: 1, from: () => [1, 2] });
});

Crop('boxes partly outside: the inside part is copied into a zero crop', () => {
  expectCrop('one column overlap', cropOf([10, 1, 15, 4]), { h: 4, w: 6, from: (r, c) => (c === 0 ? [r, 9] : null) });
  expectCrop('past the bottom-right corner', cropOf([8, 4, 12, 8]), {
    h: 5,
    w: 5,
    from: (r, c) => (r < 3 && c < 3 ? [r + 3, c + 7] : null),
  });
  expectCrop('larger than the image on all sides', cropOf([-2, -2, 12, 8]), {
    h: 11,
    w: 15,
    from: (r, c) => (r >= 3 && r < 9 && c >= 3 && c < 13 ? [r - 3, c - 3] : null),
  });
});

Crop('boxes wholly left or right: numpy raises, or gives a zero crop, exactly where numpy does', () => {
  // x1 = x2 - 3, rows 1..4. x2 <= 1 - W: the stop counts from the end and
  // leaves at most one source column, broadcast into the empty destination.
  for (let x2 = -15; x2 <= 0; x2++) {
    const raises = x2 >= -8 && x2 <= -1; // 2..9 source columns into 0
    expectCrop(`left, x2 ${x2}`, cropOf([x2 - 3, 1, x2, 4]), raises ? null : zeros(4, 4));
  }
  const right: Record<number, Expected | null> = {
    9: { h: 4, w: 4, from: (r, c) => (c < 2 ? [r, c + 8] : null) },
    10: { h: 4, w: 4, from: (r, c) => (c === 0 ? [r, 9] : null) },
    11: zeros(4, 4), // x1 = W + 1: both slices empty
    12: null, // 0 source columns into 3
    13: null,
  };
  for (let x1 = 9; x1 <= 13; x1++) expectCrop(`right, x1 ${x1}`, cropOf([x1, 1, x1 + 3, 4]), right[x1]);
});

Crop('boxes wholly above or below: the same rules for rows', () => {
  for (let y2 = -11; y2 <= 0; y2++) {
    const raises = y2 >= -4 && y2 <= -1;
    expectCrop(`above, y2 ${y2}`, cropOf([1, y2 - 3, 4, y2]), raises ? null : zeros(4, 4));
  }
  const below: Record<number, Expected | null> = {
    5: { h: 4, w: 4, from: (r, c) => (r < 2 ? [r + 4, c] : null) },
    6: { h: 4, w: 4, from: (r, c) => (r === 0 ? [5, c] : null) },
    7: zeros(4, 4),
    8: null,
    9: null,
  };
  for (let y1 = 5; y1 <= 9; y1++) expectCrop(`below, y1 ${y1}`, cropOf([1, y1, 4, y1 + 3]), below[y1]);
});

/** A PadResult of one candidate with the given fields (pad() never makes these; numpy still broadcasts them). */
function padOf(f: Record<keyof PadResult, number>): PadResult {
  const r = {} as PadResult;
  for (const k of Object.keys(f) as (keyof PadResult)[]) r[k] = Int32Array.of(f[k]);
  return r;
}

Crop('a 1-pixel source slice into a longer destination is broadcast (repeated), as numpy does', () => {
  // tmp[0:3, 0:2] = img[4:5, 1:3]: image row 4 in all three crop rows
  const rows = padOf({ dy: 1, edy: 3, dx: 1, edx: 2, y: 5, ey: 5, x: 2, ex: 3, tmpw: 2, tmph: 3 });
  expectCrop('broadcast rows', cropCandidate(IMG, rows, 0), { h: 3, w: 2, from: (_r, c) => [4, c + 1] });
  // tmp[0:2, 0:3] = img[1:3, 7:8]: image column 7 in all three crop columns
  const cols = padOf({ dy: 1, edy: 2, dx: 1, edx: 3, y: 2, ey: 3, x: 8, ex: 8, tmpw: 3, tmph: 2 });
  expectCrop('broadcast columns', cropCandidate(IMG, cols, 0), { h: 2, w: 3, from: (r) => [r + 1, 7] });
  // 2 source rows into 3 destination rows: numpy raises
  const misfit = padOf({ dy: 1, edy: 3, dx: 1, edx: 2, y: 4, ey: 5, x: 2, ex: 3, tmpw: 2, tmph: 3 });
  expectCrop('2 rows into 3', cropCandidate(IMG, misfit, 0), null);
});

const rowsOf = (rows: number[][]): BoxArray => ({ rows: rows.length, cols: rows[0].length, data: Float64Array.from(rows.flat()) });

Crop('cropBatch: degenerate candidates are left out of `kept`, the others keep their crops and order', () => {
  const boxes = [
    [2, 1, 5, 4], // valid
    [12, 1, 15, 4], // dropped
    [2, 1, 1, 4], // dropped
    [11, 1, 15, 4], // valid, all zero
    [-5, 1, -2, 4], // dropped
    [8, 4, 12, 8], // valid
  ];
  const p = pad(rowsOf(boxes.map((b) => [...b, 0.9])), W, H);
  const calls: TraceCall[] = [];
  const batch = cropBatch(IMG, p, boxes.length, 24, 'stage2', (c) => calls.push(c));
  assert.equal(batch.kept, [0, 3, 5]);
  assert.is(batch.input.length, 3 * 24 * 24 * 3);
  assert.is(calls.filter((c) => c.fn === 'imresample').length, 3, 'no imresample call for a dropped crop');
  for (const [j, k] of batch.kept.entries()) {
    const alone = cropBatch(IMG, pad(rowsOf([[...boxes[k], 0.9]]), W, H), 1, 24, 'stage2');
    assert.equal(Array.from(batch.input.subarray(j * 1728, (j + 1) * 1728)), Array.from(alone.input), `crop ${k}`);
  }
  // the all-zero crop is fed to R-Net as zero pixels: (0 - 127.5) * 0.0078125 everywhere
  assert.ok(batch.input.subarray(1728, 2 * 1728).every((v) => v === -0.99609375), 'zero crop normalised');
  const none = cropBatch(IMG, pad(rowsOf([[12, 1, 15, 4, 0.9]]), W, H), 1, 48, 'stage3');
  assert.equal(none.kept, []);
  assert.is(none.input.length, 0);
});

function keepRows(b: BoxArray, kept: number[]): BoxArray {
  return { rows: kept.length, cols: b.cols, data: Float64Array.from(kept.flatMap((k) => Array.from(b.data.subarray(k * b.cols, (k + 1) * b.cols)))) };
}

/** b with `extra` rows inserted before row `at` (each padded with zeros to b.cols). */
function insertRows(b: BoxArray, at: number, extra: number[][]): BoxArray {
  const rows: number[][] = [];
  for (let i = 0; i < b.rows; i++) rows.push(Array.from(b.data.subarray(i * b.cols, (i + 1) * b.cols)));
  const padded = extra.map((r) => [...r, ...new Array(b.cols - r.length).fill(0)]);
  rows.splice(at, 0, ...padded);
  return rowsOf(rows);
}

Crop('end to end: degenerate boxes injected into stages 2 and 3 are dropped, the faces are unchanged', () => {
  const weights = loadWeightsFile();
  const photo = loadPhoto('hopkins1'); // 250x250, one face
  const img = toRgb(photo);
  const expected = new Detector(weights).detectRaw(photo);
  assert.ok(expected.boxes.rows >= 1, 'the photo has a face');
  const w = img.width,
    h = img.height;
  const bad = [
    [w + 5, 10, w + 20, 25, 0.99], // wholly right: numpy raises
    [50, 60, 49, 70, 0.99], // zero width: np.empty()
    [-30, 10, -20, 20, 0.99], // wholly left, -20 > 1 - w: numpy raises
  ];

  const s1 = stage1(img, computeScales(h, w, 20, 0.709), 0.6, weights.pnet);
  assert.ok(s1.boxes.rows > 2, 'stage 1 has candidates');
  const boxes2 = insertRows(insertRows(s1.boxes, 1, bad.slice(0, 2)), 0, bad.slice(2));
  const b2 = cropBatch(img, pad(boxes2, w, h), boxes2.rows, 24, 'stage2');
  assert.equal(b2.kept.filter((k) => k === 0 || k === 2 || k === 3), [], 'injected stage-2 boxes dropped');
  assert.is(b2.kept.length, s1.boxes.rows);
  const refined = refine(keepRows(boxes2, b2.kept), runRnet(weights.rnet, b2.input, b2.kept.length), 0.7);
  assert.ok(refined.rows >= 1);

  const fixed = fixAndPad(insertRows(refined, refined.rows, bad), w, h);
  const b3 = cropBatch(img, fixed.pad, fixed.boxes.rows, 48, 'stage3');
  assert.equal(b3.kept, Array.from({ length: refined.rows }, (_, i) => i), 'injected stage-3 boxes dropped');
  const got = finish(keepRows(fixed.boxes, b3.kept), runOnet(weights.onet, b3.input, b3.kept.length), 0.7);
  assert.equal(Array.from(got.boxes.data), Array.from(expected.boxes.data));
  assert.equal(Array.from(got.points), Array.from(expected.points));

  // a box just past the right edge is the reference's all-zero crop: kept, fed to the nets
  const edge = insertRows(refined, 0, [[w + 1, 10, w + 12, 21, 0.99]]);
  const fe = fixAndPad(edge, w, h);
  const be = cropBatch(img, fe.pad, fe.boxes.rows, 48, 'stage3');
  assert.is(be.kept[0], 0, 'zero crop kept');
  const withEdge = finish(keepRows(fe.boxes, be.kept), runOnet(weights.onet, be.input, be.kept.length), 0.7);
  assert.ok(Array.from(withEdge.boxes.data).every(Number.isFinite) && Array.from(withEdge.points).every(Number.isFinite));
});

Crop.run();
