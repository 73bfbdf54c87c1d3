/**
 * imresample = cv2.resize(INTER_AREA), bit for bit. Three kinds of evidence:
 * the worked examples of ../shared/mtcnn/OPENCV_INTER_AREA.md (values measured
 * on cv2 4.6 or derived by hand from its rules, one small test each); the
 * randomised bank golden/units/imresample.json; and every imresample call in
 * the golden traces (pyramid levels from the photos, R-Net/O-Net crops).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MtcnnError } from '../src/errors.ts';
import { imresample, resizePath, type ResizePath } from '../src/image/imresample.ts';
import { toNumbers } from '../src/io/npy.ts';
import { checkClose, checkEqual, sha256 } from './helpers/check.ts';
import { readGoldenNpy, readJson, traceNames } from './helpers/data.ts';
import { loadPhoto } from './helpers/photos.ts';
import { RESIZE_F64_ABS, UINT8_EXACT } from './tolerances.ts';

const Resize = suite('imresample');

const u8 = (values: number[]) => Uint8Array.from(values);
const f64 = (values: number[]) => Float64Array.from(values);

/** Value at (y, x, c) of an (h, w, cn) buffer. */
const at = (a: ArrayLike<number>, w: number, cn: number, y: number, x: number, c: number) =>
  a[(y * w + x) * cn + c];

// ---------------------------------------------------------------------------
// Dispatch (§1)

Resize('resizePath: copy, whole ratios, fractional shrink, any growth', () => {
  const cases: [number, number, number, number, ResizePath][] = [
    [30, 30, 30, 30, 'copy'],
    [117, 117, 13, 13, 'areaFast'], // 9x9 blocks, a pyramid level of §1
    [72, 48, 24, 24, 'areaFast'], // 3x2 blocks
    [1, 4, 1, 2, 'areaFast'], // a ratio of 1 in one axis is allowed
    [250, 250, 150, 150, 'areaGeneral'],
    [25, 25, 24, 24, 'areaGeneral'],
    [20, 30, 24, 24, 'linearArea'], // shrinks in x, grows in y: the 2-tap path in both
    [47, 47, 48, 48, 'linearArea'],
  ];
  for (const [h, w, hs, ws, path] of cases) {
    assert.is(resizePath(h, w, hs, ws), path, `${h}x${w} -> ${hs}x${ws}`);
  }
});

// ---------------------------------------------------------------------------
// PATH G, area general (§3)

Resize('G u8 6->5 row: float accumulation makes 129.49999778 exactly 129.5, rounded to 130', () => {
  const out = imresample(u8([136, 97, 189, 110, 99, 215]), 1, 6, 1, 5, 1);
  checkEqual('6->5 u8', out, [130, 128, 150, 103, 196]);
});

Resize('G u8 6->5 row, 3 channels: every channel as the 1-channel row', () => {
  const row = [136, 97, 189, 110, 99, 215];
  const src = new Uint8Array(18);
  for (let x = 0; x < 6; x++) {
    src[3 * x] = row[x];
    src[3 * x + 1] = 255 - row[x];
    src[3 * x + 2] = row[5 - x];
  }
  const out = imresample(src, 1, 6, 1, 5);
  const c0 = imresample(u8(row), 1, 6, 1, 5, 1);
  const c1 = imresample(u8(row.map((v) => 255 - v)), 1, 6, 1, 5, 1);
  const c2 = imresample(u8(row.slice().reverse()), 1, 6, 1, 5, 1);
  for (let x = 0; x < 5; x++) {
    assert.is(out[3 * x], c0[x], `c0 x=${x}`);
    assert.is(out[3 * x + 1], c1[x], `c1 x=${x}`);
    assert.is(out[3 * x + 2], c2[x], `c2 x=${x}`);
  }
});

Resize('G f64 6->5 row: double accumulation of float weights', () => {
  const out = imresample(f64([136, 97, 189, 110, 99, 215]), 1, 6, 1, 5, 1);
  checkEqual('6->5 f64', out, [
    129.49999777972698, 127.66667047142982, 149.5, 102.66666972637177, 195.66666288673878,
  ]);
});

Resize('G weights 6->5, 250->150, 250->107 (one-hot rows read the float table)', () => {
  // A 1-row float64 image with a single 1 at source pixel s gives, at output
  // d, exactly the float weight of (s in cell d): 1 * w, added to zeros.
  const oneHot = (sw: number, s: number, dw: number) => {
    const src = new Float64Array(sw);
    src[s] = 1;
    return imresample(src, 1, sw, 1, dw, 1);
  };
  assert.is(oneHot(6, 0, 5)[0], 0.8333333134651184);
  assert.is(oneHot(6, 1, 5)[0], 0.1666666716337204);
  assert.is(oneHot(250, 0, 150)[0], Math.fround(0.6000000238));
  assert.is(oneHot(250, 1, 150)[0], Math.fround(0.400000006));
  assert.is(oneHot(250, 1, 150)[1], Math.fround(0.200000003));
  assert.is(oneHot(250, 249, 150)[149], Math.fround(0.6000000238));
  assert.is(oneHot(250, 248, 150)[149], Math.fround(0.400000006));
  // 250 -> 107, d2 = (4, 0.14) (5, 0.428) (6, 0.428) (7, 0.004000000190):
  // the 0.004 overlap is above the 1e-3 cut, so it is kept.
  assert.is(oneHot(250, 7, 107)[2], Math.fround(0.00400000019));
  assert.is(oneHot(250, 0, 107)[0], Math.fround(0.428));
});

// ---------------------------------------------------------------------------
// PATH F, area fast (§2)

Resize('F u8 2x2: (sum + 2) >> 2 rounds ties up for 1, 3, 4 channels, not for 2', () => {
  // [[0, 1], [1, 0]] in every channel: the block sum is 2, the mean 0.5.
  for (const cn of [1, 3, 4]) {
    const src = new Uint8Array(4 * cn);
    for (let c = 0; c < cn; c++) src[cn + c] = src[2 * cn + c] = 1;
    checkEqual(`2x2 cn=${cn}`, imresample(src, 2, 2, 1, 1, cn), new Array(cn).fill(1));
  }
  // cn = 2 has no shortcut: rne(2 * 0.25f) = rne(0.5) = 0.
  checkEqual('2x2 cn=2', imresample(u8([0, 0, 1, 1, 1, 1, 0, 0]), 2, 2, 1, 1, 2), [0, 0]);
});

Resize('F u8 other ratios round ties to even: [1,2,2,3] 2:1, and 3x2 blocks', () => {
  // 1x4 -> 1x2, area 2: 1.5 -> 2 and 2.5 -> 2.
  checkEqual('1x4 -> 1x2', imresample(u8([1, 2, 2, 3]), 1, 4, 1, 2, 1), [2, 2]);
  // 2x3 -> 1x1, area 6, scale fround(1/6) = 0.1666666716337204: sums 9, 15 and
  // 21 give 1.50000004, 2.50000007, 3.5000001, which are 1.5, 2.5 and 3.5 as
  // floats, then 2, 2 and 4 (ties up would give 2, 3, 4).
  const src = new Uint8Array(18);
  const rows = [
    [1, 2, 3],
    [2, 3, 4],
  ];
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 3; x++) for (let c = 0; c < 3; c++) src[(y * 3 + x) * 3 + c] = rows[y][c];
  }
  checkEqual('2x3 -> 1x1', imresample(src, 2, 3, 1, 1), [2, 2, 4]);
});

Resize('F f64: sum times the float reciprocal, not sum / area', () => {
  // 3x3 block summing to 2040 -> 2040 * 0.1111111119389534.
  const block = f64([255, 255, 255, 255, 255, 255, 255, 255, 0]);
  assert.is(imresample(block, 3, 3, 1, 1, 1)[0], 226.66666835546494);
  const flat = new Float64Array(27).fill(200); // constant 200, 3:1 in both axes
  const mean200 = 200.00000149011612;
  checkEqual('200 3:1', imresample(flat, 3, 3, 1, 1), [mean200, mean200, mean200]);
});

Resize('F f64: the block is summed in groups of four, then the leftovers', () => {
  // 1x8 -> 1x1: sum = 0 + (((a + b) + c) + d) + (((e + f) + g) + h). With
  // a = 1, e..h = 2^-53 the second group adds 2^-51, which 1 keeps; adding
  // the four 2^-53 one at a time would round each away (ties to even).
  const tiny = 2 ** -53;
  const out = imresample(f64([1, 0, 0, 0, tiny, tiny, tiny, tiny]), 1, 8, 1, 1, 1);
  assert.is(out[0], (1 + 2 ** -51) * 0.125);
});

// ---------------------------------------------------------------------------
// PATH L, linear with area coefficients (§5)

Resize('L u8 5->8 row: 11-bit fixed point', () => {
  const out = imresample(u8([10, 50, 90, 130, 170]), 1, 5, 1, 8, 1);
  checkEqual('5->8 u8', out, [10, 26, 50, 82, 98, 130, 154, 170]);
});

Resize('L f64 5->8 row: float weights used in double', () => {
  const out = imresample(f64([10, 50, 90, 130, 170]), 1, 5, 1, 8, 1);
  checkEqual('5->8 f64', out, [
    10, 26.000000536441803, 50, 82.00000047683716, 98.0000014603138, 130, 154.00000095367432, 170,
  ]);
});

Resize('L 10->24 x table: taps and where they blend', () => {
  // ofs and the outputs with a non-zero second weight, from §5.1.
  const ofs = [0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5, 5, 6, 6, 7, 7, 7, 8, 8, 9, 9];
  const blended = new Set([2, 4, 7, 9, 14, 16, 19, 21]);
  const row = Array.from({ length: 10 }, (_, i) => 10 * i + 5);
  const out = imresample(f64(row), 1, 10, 1, 24, 1);
  for (let d = 0; d < 24; d++) {
    const s = row[ofs[d]];
    if (blended.has(d)) {
      assert.ok(out[d] > s && out[d] < row[ofs[d] + 1], `d=${d}: ${out[d]} blends from ${s}`);
    } else {
      assert.is(out[d], s, `d=${d}`);
    }
  }
});

Resize('L 68->24 row 18: the float rounding of f picks source row 50 alone', () => {
  // 68x1 -> 24x24: x only replicates (width 1), and row r holds r. floor(18 *
  // 2.833333333333333) = 50 and f = 0.99999999999999645 rounds to 1.0f, whose
  // fractional part is 0; a double f would give about 51.
  const f = Float64Array.from({ length: 68 }, (_, r) => r);
  const out = imresample(f, 68, 1, 24, 24, 1);
  for (let x = 0; x < 24; x++) assert.is(out[18 * 24 + x], 50, `f64 x=${x}`);
  const u = imresample(Uint8Array.from({ length: 68 }, (_, r) => r), 68, 1, 24, 24, 1);
  for (let x = 0; x < 24; x++) assert.is(u[18 * 24 + x], 50, `u8 x=${x}`);
});

Resize('L 47->48 bottom row: y keeps its tiny weight at the border', () => {
  // Constant 255. At x = 0 the x taps are (1, 0), so the rows show the y
  // weights alone: the last row is 255 * 1.0f + 255 * 2^-47 (a port that
  // zeroes f in y too gives 255), the one above has w0 + w1 != 1 in float.
  const out = imresample(new Float64Array(47 * 47 * 3).fill(255), 47, 47, 48, 48);
  for (let c = 0; c < 3; c++) {
    assert.is(at(out, 48, 3, 47, 0, c), 255.00000000000182, `row 47 c=${c}`);
    assert.is(at(out, 48, 3, 46, 0, c), 255.0000004749745, `row 46 c=${c}`);
  }
  // uint8: the tiny weight is 0 in 11-bit fixed point.
  const u = imresample(new Uint8Array(47 * 47 * 3).fill(255), 47, 47, 48, 48);
  checkEqual('47->48 u8', u, new Array(48 * 48 * 3).fill(255));
});

// ---------------------------------------------------------------------------
// Copy and bad requests

Resize('same size: an equal copy, not the same array', () => {
  const src = u8([1, 2, 3, 4, 5, 6]);
  const out = imresample(src, 1, 2, 1, 2);
  assert.is.not(out, src);
  checkEqual('copy', out, src);
  out[0] = 9;
  assert.is(src[0], 1);
  assert.ok(imresample(f64([1, 2, 3]), 1, 1, 1, 1) instanceof Float64Array);
});

Resize('bad sizes throw MtcnnError BAD_IMAGE', () => {
  const bad = (fn: () => unknown, what: string) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof MtcnnError && e.code === 'BAD_IMAGE', `${what}: ${e}`);
      return;
    }
    assert.unreachable(`${what} did not throw`);
  };
  const img = new Uint8Array(12);
  bad(() => imresample(img, 2, 2, 0, 1), 'hs = 0');
  bad(() => imresample(img, 2, 2, 1, 1.5), 'ws = 1.5');
  bad(() => imresample(img, 2, 3, 1, 1), 'length mismatch');
  bad(() => imresample(img, 2, 2, 1, 1, 0), 'channels = 0');
});

// ---------------------------------------------------------------------------
// Golden bank: golden/units/imresample.json

interface UnitCase {
  in: { dtype: 'uint8' | 'float64'; img: number[][][]; hs: number; ws: number };
  out: { dtype: 'uint8' | 'float64'; img: number[][][] };
}

/** Nested (h, w, c) lists -> C-order values. */
function flatten(img: number[][][]): number[] {
  const values: number[] = [];
  for (const row of img) for (const px of row) for (const v of px) values.push(v);
  return values;
}

/** Per dtype and path, how many resizes matched (printed; the traces' are checked against §8). */
type Counts = Record<string, number>;
const bump = (counts: Counts, key: string) => (counts[key] = (counts[key] ?? 0) + 1);
const show = (counts: Counts) =>
  Object.keys(counts)
    .sort()
    .map((k) => `${k} ${counts[k]}`)
    .join(', ');

Resize('golden units/imresample.json: every case identical', () => {
  const bank = readJson<{ cases: UnitCase[] }>('golden', 'units', 'imresample.json');
  assert.ok(bank.cases.length > 0, 'no cases');
  const counts: Counts = {};
  let worstF64 = 0;
  bank.cases.forEach((tc, i) => {
    const h = tc.in.img.length, w = tc.in.img[0].length, cn = tc.in.img[0][0].length;
    const { hs, ws } = tc.in;
    const label = `case ${i}: ${tc.in.dtype} ${h}x${w} -> ${hs}x${ws}`;
    const values = flatten(tc.in.img);
    const expected = flatten(tc.out.img);
    assert.is(tc.out.dtype, tc.in.dtype, `${label}: out dtype`);
    assert.equal([tc.out.img.length, tc.out.img[0].length], [hs, ws], `${label}: out shape`);
    const path = resizePath(h, w, hs, ws);
    if (tc.in.dtype === 'uint8') {
      const out = imresample(Uint8Array.from(values), h, w, hs, ws, cn);
      checkClose(`${label} (${path})`, out, expected, UINT8_EXACT);
    } else {
      const out = imresample(Float64Array.from(values), h, w, hs, ws, cn);
      const worst = checkClose(`${label} (${path})`, out, expected, RESIZE_F64_ABS);
      worstF64 = Math.max(worstF64, worst);
    }
    bump(counts, `${tc.in.dtype} ${path}`);
  });
  console.log(
    `  imresample units: ${bank.cases.length} cases matched (${show(counts)}); ` +
      `float64 max |diff| ${worstF64}`,
  );
});

// ---------------------------------------------------------------------------
// Golden traces: every imresample call of detect_face on the photos

interface Digest {
  dtype: string;
  shape: number[];
  sha256: string;
  file?: string;
}
interface ResizeCall {
  fn: string;
  stage: string;
  size: [number, number];
  in_dtype?: string;
  arrays: { in?: Digest; out: Digest };
}
interface Trace {
  image: string;
  image_digest: Digest;
  calls: ResizeCall[];
}

const traceCounts: Counts = {};
let traceWorstF64 = 0;

for (const name of traceNames()) {
  Resize(`golden trace ${name}: pyramid levels and crops identical`, () => {
    const trace = readJson<Trace>('golden', name, 'trace.json');
    const photo = loadPhoto(trace.image);
    assert.is(sha256(photo.data), trace.image_digest.sha256, `${name}: photo digest`);
    let calls = 0;
    for (const call of trace.calls) {
      if (call.fn !== 'imresample') continue;
      calls++;
      const [hs, ws] = call.size;
      const out = call.arrays.out;
      const label = `${name} ${call.stage} -> ${hs}x${ws}`;
      assert.equal(out.shape, [hs, ws, 3], `${label}: out shape`);
      if (call.stage === 'stage1') {
        // A pyramid level: uint8 photo in, uint8 out.
        assert.is(out.dtype, 'uint8', `${label}: out dtype`);
        const ours = imresample(photo.data, photo.height, photo.width, hs, ws);
        if (out.file) {
          const kept = readGoldenNpy('golden', name, out.file);
          assert.is(kept.dtype, 'uint8', `${label}: kept out dtype`);
          checkClose(label, ours, toNumbers(kept.data), UINT8_EXACT);
        }
        assert.is(sha256(ours), out.sha256, `${label}: sha256`);
        const path = resizePath(photo.height, photo.width, hs, ws);
        bump(traceCounts, `uint8 ${path}${out.file ? '' : ' (digest)'}`);
      } else {
        // A crop: float64 holding whole numbers, kept as uint8.
        assert.is(call.in_dtype, 'float64', `${label}: in_dtype`);
        const inDigest = call.arrays.in;
        assert.ok(inDigest?.file && out.file, `${label}: crop arrays not kept`);
        const src = readGoldenNpy('golden', name, inDigest.file);
        const expected = readGoldenNpy('golden', name, out.file);
        assert.is(src.dtype, 'uint8', `${label}: kept in dtype`);
        assert.is(expected.dtype, 'float64', `${label}: kept out dtype`);
        const [h, w] = src.shape;
        const ours = imresample(Float64Array.from(toNumbers(src.data)), h, w, hs, ws);
        const worst = checkClose(label, ours, toNumbers(expected.data), RESIZE_F64_ABS);
        traceWorstF64 = Math.max(traceWorstF64, worst);
        assert.is(sha256(ours), out.sha256, `${label}: sha256`);
        bump(traceCounts, `float64 ${resizePath(h, w, hs, ws)}`);
      }
    }
    assert.ok(calls > 0, `${name}: no imresample calls`);
  });
}

Resize('golden traces: every path the reference took was replayed', () => {
  // §8 of OPENCV_INTER_AREA.md (golden_check.py) reports these 251 calls as
  // uint8 G 86; float64 G 152, L 7, F 5, copy 1.
  console.log(
    `  imresample traces: ${show(traceCounts)}; float64 max |diff| ${traceWorstF64}`,
  );
  const sum = (prefix: string) =>
    Object.keys(traceCounts)
      .filter((k) => k.startsWith(prefix))
      .reduce((a, k) => a + traceCounts[k], 0);
  assert.is(sum('uint8 areaGeneral'), 86);
  assert.is(sum('uint8 '), 86);
  assert.is(traceCounts['float64 areaGeneral'], 152);
  assert.is(traceCounts['float64 linearArea'], 7);
  assert.is(traceCounts['float64 areaFast'], 5);
  assert.is(traceCounts['float64 copy'], 1);
});

Resize.run();
