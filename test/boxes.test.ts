/**
 * The box helpers (src/pipeline/boxes.ts) against the reference: every case of
 * golden/units/{generateBoundingBox,nms,rerec,pad,bbreg}.json and every such
 * call in the golden traces, identical; then named tests for the reference's
 * quirks (flipud with one candidate, the (0, 8) empty result, nms ties, Min
 * against Union, int16 picks that wrap).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  bbreg,
  generateBoundingBox,
  nms,
  pad,
  rerec,
  takeRows,
  type BoxArray,
  type PadResult,
} from '../src/pipeline/boxes.ts';
import { toNumbers, type NpyArray } from '../src/io/npy.ts';
import { checkClose, checkEqual } from './helpers/check.ts';
import { readGoldenNpy, readJson, traceNames } from './helpers/data.ts';
import { BOX_EXACT } from './tolerances.ts';

const PAD_OUTPUTS = ['dy', 'edy', 'dx', 'edx', 'y', 'ey', 'x', 'ex', 'tmpw', 'tmph'] as const;

/** A (rows.length, cols) BoxArray from nested lists (JSON), cols given for the empty case. */
function fromRows(rows: number[][], cols: number): BoxArray {
  return { rows: rows.length, cols, data: Float64Array.from(rows.flat()) };
}

/** A 2-D .npy (any dtype) as a float64 BoxArray, as numpy promotes it in the box arithmetic. */
function fromNpy(a: NpyArray): BoxArray {
  assert.is(a.shape.length, 2, 'a 2-D array');
  return { rows: a.shape[0], cols: a.shape[1], data: Float64Array.from(toNumbers(a.data)) };
}

/** Shape, then every value identical (BOX_EXACT = 0). */
function checkBoxes(
  label: string,
  actual: BoxArray,
  rows: number,
  cols: number,
  expected: ArrayLike<number>,
): void {
  assert.equal([actual.rows, actual.cols], [rows, cols], `${label}: shape`);
  checkClose(label, actual.data, expected, BOX_EXACT);
}

function checkPad(label: string, actual: PadResult, expected: Record<string, ArrayLike<number>>) {
  for (const k of PAD_OUTPUTS) checkEqual(`${label} ${k}`, actual[k], expected[k]);
}

/** The bank case's imap (h, w) and reg (h, w, 4) as the float32 arrays detect_face passes. */
function gbbInputs(c: { in: { imap: number[][]; reg: number[][][] } }) {
  const h = c.in.imap.length;
  const w = c.in.imap[0].length;
  return { h, w, imap: Float32Array.from(c.in.imap.flat()), reg: Float32Array.from(c.in.reg.flat(2)) };
}

const Boxes = suite('boxes');

// ---------------------------------------------------------------- unit banks

Boxes('units/generateBoundingBox.json: every case identical', () => {
  const cases = readJson('golden', 'units', 'generateBoundingBox.json').cases;
  let empty = 0;
  for (const [i, c] of cases.entries()) {
    const { h, w, imap, reg } = gbbInputs(c);
    const out = c.out as number[][];
    // JSON keeps no shape for an empty list: (0, 8) is the reference's, see the quirk tests.
    const cols = out.length === 0 ? 8 : 9;
    if (out.length === 0) empty++;
    const bb = generateBoundingBox(imap, reg, h, w, c.in.scale, c.in.t);
    checkBoxes(`generateBoundingBox case ${i} (${h}x${w})`, bb, out.length, cols, out.flat());
  }
  console.log(`  generateBoundingBox: ${cases.length} bank cases identical (${empty} with no candidate)`);
});

Boxes('units/nms.json: every case identical', () => {
  const cases = readJson('golden', 'units', 'nms.json').cases;
  for (const [i, c] of cases.entries()) {
    const pick = nms(fromRows(c.in.boxes, 5), c.in.threshold, c.in.method);
    assert.instance(pick, Int16Array);
    checkEqual(`nms case ${i} (${c.in.boxes.length} boxes, ${c.in.method} ${c.in.threshold})`, pick, c.out);
  }
  console.log(`  nms: ${cases.length} bank cases identical`);
});

Boxes('units/rerec.json: every case identical', () => {
  const cases = readJson('golden', 'units', 'rerec.json').cases;
  for (const [i, c] of cases.entries()) {
    const out = rerec(fromRows(c.in, 5));
    checkBoxes(`rerec case ${i}`, out, c.out.length, 5, c.out.flat());
  }
  console.log(`  rerec: ${cases.length} bank cases identical`);
});

Boxes('units/pad.json: every case identical (all ten outputs)', () => {
  const cases = readJson('golden', 'units', 'pad.json').cases;
  for (const [i, c] of cases.entries()) {
    checkPad(`pad case ${i}`, pad(fromRows(c.in.total_boxes, 5), c.in.w, c.in.h), c.out);
  }
  console.log(`  pad: ${cases.length} bank cases identical`);
});

Boxes('units/bbreg.json: every case identical', () => {
  const cases = readJson('golden', 'units', 'bbreg.json').cases;
  for (const [i, c] of cases.entries()) {
    const out = bbreg(fromRows(c.in.boundingbox, 5), (c.in.reg as number[][]).flat());
    checkBoxes(`bbreg case ${i}`, out, c.out.length, 5, c.out.flat());
  }
  console.log(`  bbreg: ${cases.length} bank cases identical`);
});

// ---------------------------------------------------------------- traces

/**
 * detect_face's calibration after the cross-scale nms (its `regw = ...`,
 * `qq1 = ...` lines), to rebuild the input of stage 1's rerec.
 * (n, 9) f64 boxes -> (n, 5) f64: qq1 qq2 qq3 qq4 score.
 */
function calibrate(tb: BoxArray): BoxArray {
  const d = tb.data;
  const out = new Float64Array(tb.rows * 5);
  for (let i = 0; i < tb.rows; i++) {
    const o = i * tb.cols;
    const regw = d[o + 2] - d[o];
    const regh = d[o + 3] - d[o + 1];
    out[i * 5] = d[o] + d[o + 5] * regw; // qq1
    out[i * 5 + 1] = d[o + 1] + d[o + 6] * regh; // qq2
    out[i * 5 + 2] = d[o + 2] + d[o + 7] * regw; // qq3
    out[i * 5 + 3] = d[o + 3] + d[o + 8] * regh; // qq4
    out[i * 5 + 4] = d[o + 4]; // score
  }
  return { rows: tb.rows, cols: 5, data: out };
}

Boxes('every trace: nms, rerec, pad, bbreg and generateBoundingBox calls identical', () => {
  const n = { gbb: 0, gbbEmpty: 0, gbbOne: 0, gbbDigestOnly: 0 };
  const m = { nms: 0, nmsEmpty: 0, ties: 0, rerec: 0, pad: 0, bbreg: 0 };
  for (const name of traceNames()) {
    const t = readJson('golden', name, 'trace.json');
    const kept = (call: any, key: string): NpyArray => {
      const file = call.arrays[key].file;
      if (!file) throw new Error(`${name}: ${call.fn} ${key} is not kept`);
      return readGoldenNpy('golden', name, file);
    };
    // State the later calls need: the reference's inputs that the trace
    // records only as digests, or records after the callee modified them.
    let pnet: { out0: Float32Array; out1: Float32Array; wt: number; ht: number } | null = null;
    let lastNms: { boxes: BoxArray; pick: Int16Array } | null = null;
    let lastBbregOut: BoxArray | null = null;
    let lastPadBoxes: BoxArray | null = null;
    let onetProb: Float32Array | null = null;

    for (const [ci, call] of (t.calls as any[]).entries()) {
      const label = `${name} call ${ci} ${call.fn} (${call.stage})`;
      switch (call.fn) {
        case 'pnet': {
          // Kept only on photos of at most 800x800 (full_maps).
          if (!call.arrays.out0.file) {
            pnet = null;
            break;
          }
          const out0 = kept(call, 'out0');
          const out1 = kept(call, 'out1');
          // (1, W', H', c): P-Net saw the level transposed.
          pnet = {
            out0: out0.data as Float32Array,
            out1: out1.data as Float32Array,
            wt: out0.shape[1],
            ht: out0.shape[2],
          };
          break;
        }
        case 'generateBoundingBox': {
          if (!pnet) {
            n.gbbDigestOnly++;
            break;
          }
          // detect_face: out1 = np.transpose(out[1], (0,2,1,3)); imap = out1[0,:,:,1]
          // (h, w) = (H', W'), and reg = out0[0,:,:,:] (h, w, 4).
          const { wt, ht } = pnet;
          const imap = new Float32Array(ht * wt); // (h, w) f32
          const reg = new Float32Array(ht * wt * 4); // (h, w, 4) f32
          for (let r = 0; r < ht; r++) {
            for (let c = 0; c < wt; c++) {
              imap[r * wt + c] = pnet.out1[(c * ht + r) * 2 + 1];
              for (let k = 0; k < 4; k++) reg[(r * wt + c) * 4 + k] = pnet.out0[(c * ht + r) * 4 + k];
            }
          }
          const want = kept(call, 'boundingbox');
          const bb = generateBoundingBox(imap, reg, ht, wt, call.scale, call.t);
          checkBoxes(label, bb, want.shape[0], want.shape[1], toNumbers(want.data));
          n.gbb++;
          if (want.shape[0] === 0) n.gbbEmpty++;
          if (want.shape[0] === 1) n.gbbOne++;
          break;
        }
        case 'nms': {
          const boxes = fromNpy(kept(call, 'boxes'));
          const want = kept(call, 'pick');
          const pick = nms(boxes, call.threshold, call.method);
          if (boxes.rows === 0) {
            // The reference's np.empty((0,3)) float64; ours is an empty Int16Array.
            assert.equal([want.dtype, want.shape], ['float64', [0, 3]], `${label}: reference's empty pick`);
            m.nmsEmpty++;
          } else {
            assert.is(want.dtype, 'int16', `${label}: pick dtype`);
          }
          checkEqual(label, pick, toNumbers(want.data));
          lastNms = { boxes, pick };
          m.nms++;
          m.ties += call.score_ties;
          break;
        }
        case 'rerec': {
          // The trace wrote `in` after rerec had squared it in place (in and out
          // share a digest), so the real input is rebuilt from the calls before.
          let input: BoxArray;
          if (call.stage === 'stage1-merge') {
            assert.ok(lastNms, `${label}: the cross-scale nms precedes it`);
            input = calibrate(takeRows(lastNms.boxes, lastNms.pick));
          } else {
            assert.ok(lastBbregOut, `${label}: stage 2's bbreg precedes it`);
            input = lastBbregOut;
          }
          const want = kept(call, 'out');
          checkBoxes(label, rerec(input), want.shape[0], want.shape[1], toNumbers(want.data));
          m.rerec++;
          break;
        }
        case 'pad': {
          const boxes = fromNpy(kept(call, 'total_boxes')); // float64 (stage 1) or int32 (stage 3)
          const want: Record<string, ArrayLike<number>> = {};
          for (const k of PAD_OUTPUTS) want[k] = kept(call, k).data as Int32Array;
          checkPad(label, pad(boxes, call.w, call.h), want);
          lastPadBoxes = boxes;
          m.pad++;
          break;
        }
        case 'onet':
          onetProb = kept(call, 'out2').data as Float32Array; // (n, 2) f32
          break;
        case 'bbreg': {
          // Like rerec, `boundingbox` was recorded after bbreg modified it; rebuild it.
          let input: BoxArray;
          if (call.stage === 'stage2') {
            // total_boxes[pick,:] after stage 2's nms
            assert.ok(lastNms, `${label}: stage 2's nms precedes it`);
            input = takeRows(lastNms.boxes, lastNms.pick);
          } else {
            // stage 3: rows of the (int32) boxes O-Net saw whose score passes,
            // hstacked with that score. `score > threshold[2]` compares a float32
            // array with a Python float, which numpy does in float32.
            assert.ok(lastPadBoxes && onetProb, `${label}: stage 3's pad and O-Net precede it`);
            const t3 = Math.fround(t.params.threshold[2]);
            const rows: number[][] = [];
            for (let i = 0; i < lastPadBoxes.rows; i++) {
              const score = onetProb[i * 2 + 1];
              const off = i * lastPadBoxes.cols;
              if (score > t3) rows.push([...lastPadBoxes.data.subarray(off, off + 4), score]);
            }
            input = fromRows(rows, 5);
          }
          const reg = kept(call, 'reg');
          assert.is(reg.shape[0], input.rows, `${label}: one regression row per box`);
          const want = kept(call, 'out');
          const out = bbreg(input, reg.data as Float32Array);
          checkBoxes(label, out, want.shape[0], want.shape[1], toNumbers(want.data));
          lastBbregOut = out;
          m.bbreg++;
          break;
        }
      }
    }
  }
  console.log(
    `  traces: generateBoundingBox ${n.gbb} calls identical (${n.gbbEmpty} with shape (0, 8), ` +
      `${n.gbbOne} with one candidate; ${n.gbbDigestOnly} not checkable: P-Net maps kept as digests only), ` +
      `nms ${m.nms} (${m.nmsEmpty} on empty input, ${m.ties} tied scores in their inputs), ` +
      `rerec ${m.rerec}, pad ${m.pad}, bbreg ${m.bbreg}`,
  );
  assert.ok(n.gbb > 0 && n.gbbEmpty > 0 && n.gbbOne > 0 && m.ties > 0, 'the traces reach each corner');
});

// ---------------------------------------------------------------- quirks

Boxes('generateBoundingBox quirk: one candidate reads the flipud regression (bank case)', () => {
  // The bank's "one" cases: every cell at most 0.5 but one at 0.9. Where the
  // map is wider than one column, the candidate at (r, c) must carry the
  // regression of cell (r, w-1-c), as the reference's flipud of the transposed
  // (w, h) maps gives.
  const cases = readJson('golden', 'units', 'generateBoundingBox.json').cases;
  let moved = 0;
  for (const [i, c] of cases.entries()) {
    if (c.out.length !== 1) continue;
    const { h, w, imap, reg } = gbbInputs(c);
    const at = imap.findIndex((v) => v >= 0.6);
    const r = Math.floor(at / w),
      col = at % w;
    const src = (r * w + (w - 1 - col)) * 4;
    const fromFlipped = Array.from(reg.subarray(src, src + 4));
    assert.equal(c.out[0].slice(5), fromFlipped, `case ${i}: the reference used cell (r, w-1-c)`);
    const bb = generateBoundingBox(imap, reg, h, w, c.in.scale, c.in.t);
    checkClose(`case ${i}`, bb.data.subarray(5), reg.subarray(src, src + 4), BOX_EXACT);
    if (w - 1 - col !== col) {
      const own = (r * w + col) * 4;
      assert.not.equal(Array.from(bb.data.subarray(5)), Array.from(reg.subarray(own, own + 4)));
      moved++;
    }
  }
  assert.ok(moved > 0, 'the bank has a one-candidate case where the flip moves the source cell');
});

Boxes('generateBoundingBox quirk: one candidate, hand-made (h=2, w=3)', () => {
  const h = 2,
    w = 3;
  // reg[r][c][k] = 100r + 10c + k: each value names its cell and channel.
  const reg = new Float32Array(h * w * 4);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) for (let k = 0; k < 4; k++) reg[(r * w + c) * 4 + k] = 100 * r + 10 * c + k;
  }
  const imap = new Float32Array(h * w); // all 0 except row 1, column 0
  imap[1 * w + 0] = 0.9;
  const one = generateBoundingBox(imap, reg, h, w, 1, 0.6);
  // Box of cell (r=1, c=0) at scale 1: x1 = 2*0+1, y1 = 2*1+1, x2 = 2*0+12, y2 = 2*1+12.
  // Regression of cell (r=1, c=w-1-0=2), not of its own cell: 120..123.
  checkBoxes('one candidate', one, 1, 9, [1, 3, 12, 14, Math.fround(0.9), 120, 121, 122, 123]);

  // With a second candidate there is no flip: each reads its own cell. Order
  // is column by column (np.where on the transposed map): (0,0) before (1,0).
  imap[0] = 0.7;
  const two = generateBoundingBox(imap, reg, h, w, 1, 0.6);
  checkBoxes('two candidates', two, 2, 9, [
    [1, 1, 12, 12, Math.fround(0.7), 0, 1, 2, 3],
    [1, 3, 12, 14, Math.fround(0.9), 100, 101, 102, 103],
  ].flat());
});

Boxes('generateBoundingBox quirk: no candidate gives shape (0, 8)', () => {
  const bb = generateBoundingBox(new Float32Array(12).fill(0.5), new Float32Array(48), 3, 4, 0.6, 0.6);
  assert.equal([bb.rows, bb.cols, bb.data.length], [0, 8, 0]);
});

Boxes('generateBoundingBox: the threshold compares in float32, fix truncates', () => {
  // imap >= 0.7 in numpy is float32(imap) >= float32(0.7): fround(0.7) < 0.7 passes.
  const imap = Float32Array.of(Math.fround(0.7), 0.5);
  const bb = generateBoundingBox(imap, new Float32Array(8), 1, 2, 0.709, 0.7);
  // x1 = fix(1/0.709) = fix(1.41) = 1, x2 = fix(12/0.709) = fix(16.92) = 16.
  checkBoxes('fround(0.7) passes t = 0.7', bb, 1, 9, [1, 1, 16, 16, Math.fround(0.7), 0, 0, 0, 0]);
});

Boxes('nms: equal scores pick the higher index first', () => {
  // Boxes 0 and 2 are the same square, 1 is far away; all score 0.9.
  const boxes = fromRows(
    [
      [0, 0, 9, 9, 0.9],
      [50, 50, 59, 59, 0.9],
      [0, 0, 9, 9, 0.9],
    ],
    5,
  );
  checkEqual('ties', nms(boxes, 0.5, 'Union'), [2, 1]);
});

Boxes("nms: 'Min' divides by the smaller area, 'Union' by the union", () => {
  // B (area 25) lies inside A (area 100): inter 25, Union 25/100 = 0.25 keeps B, Min 25/25 = 1 drops it.
  const boxes = fromRows(
    [
      [0, 0, 9, 9, 0.9],
      [0, 0, 4, 4, 0.8],
    ],
    5,
  );
  checkEqual('Union', nms(boxes, 0.5, 'Union'), [0, 1]);
  checkEqual('Min', nms(boxes, 0.5, 'Min'), [0]);
});

Boxes('nms: an overlap equal to the threshold is kept (o <= threshold), areas are +1 inclusive', () => {
  // A is 10 x 10 = 100 pixels, B its top 10 x 5 = 50: Union = 50 / (100 + 50 - 50) = 0.5.
  const boxes = fromRows(
    [
      [0, 0, 9, 9, 0.9],
      [0, 0, 9, 4, 0.8],
    ],
    5,
  );
  checkEqual('o == 0.5', nms(boxes, 0.5, 'Union'), [0, 1]);
  checkEqual('o > 0.49', nms(boxes, 0.49, 'Union'), [0]);
});

Boxes('nms: empty input gives an empty pick', () => {
  const pick = nms({ rows: 0, cols: 9, data: new Float64Array(0) }, 0.5, 'Union');
  assert.instance(pick, Int16Array);
  assert.is(pick.length, 0);
});

Boxes('nms quirk: int16 picks wrap past 32767, and takeRows indexes them from the end as numpy does', () => {
  // 40000 identical boxes, score rising with the index: the top one is 39999
  // and it suppresses all others (overlap 1).
  const N = 40000;
  const data = new Float64Array(N * 5);
  for (let i = 0; i < N; i++) data.set([0, 0, 10, 10, i / N], i * 5);
  const boxes: BoxArray = { rows: N, cols: 5, data };
  const pick = nms(boxes, 0.5, 'Union');
  // int16(39999) = 39999 - 65536 = -25537
  checkEqual('pick', pick, [-25537]);
  // numpy's boxes[pick, :] then selects row 40000 - 25537 = 14463.
  const row = takeRows(boxes, pick);
  checkClose('selected row', row.data, [0, 0, 10, 10, 14463 / N], BOX_EXACT);
});

Boxes('takeRows: fancy indexing, negatives from the end, out of range throws', () => {
  const b = fromRows(
    [
      [1, 2],
      [3, 4],
      [5, 6],
    ],
    2,
  );
  checkBoxes('takeRows', takeRows(b, [2, 0, -1, -3]), 4, 2, [5, 6, 1, 2, 5, 6, 1, 2]);
  assert.throws(() => takeRows(b, [3]), RangeError);
  assert.throws(() => takeRows(b, [-4]), RangeError);
});

Boxes('rerec: squares on the longer side about the centre; returns a new array', () => {
  const b = fromRows([[0, 0, 9, 4, 0.5]], 5);
  // w = 9, h = 4, l = 9: y1 = 0 + 2 - 4.5 = -2.5, y2 = y1 + 9 = 6.5.
  checkBoxes('rerec', rerec(b), 1, 5, [0, -2.5, 9, 6.5, 0.5]);
  checkEqual('input unchanged', b.data, [0, 0, 9, 4, 0.5]);
});

Boxes('pad: 1-based indices, clamps at every border, truncation toward zero', () => {
  // Image 10 wide, 8 high; box [-2, -3, 11, 9] is 14 x 13 and sticks out on all sides.
  const r = pad(fromRows([[-2, -3, 11, 9, 0.9], [-2.7, 0.5, 3.9, 4.2, 0.9]], 5), 10, 8);
  checkPad('pad', r, {
    // box 0: crop columns 4..13 receive image columns 1..10, rows 5..12 receive 1..8.
    // box 1: x = fix(-2.7) = -2, y = fix(0.5) = 0, tmpw = fix(7.6) = 7, tmph = fix(4.7) = 4.
    dy: [5, 2],
    edy: [12, 4],
    dx: [4, 4],
    edx: [13, 7],
    y: [1, 1],
    ey: [8, 4],
    x: [1, 1],
    ex: [10, 3],
    tmpw: [14, 7],
    tmph: [13, 4],
  });
});

Boxes('bbreg: offsets times the +1 width and height; returns a new array', () => {
  const b = fromRows([[10, 20, 29, 39, 0.8]], 5);
  // w = h = 20: x1 + 0.1*20, y1 - 0.1*20, x2 + 0.05*20, y2 + 0.
  checkBoxes('bbreg', bbreg(b, [0.1, -0.1, 0.05, 0]), 1, 5, [12, 18, 30, 39, 0.8]);
  checkEqual('input unchanged', b.data, [10, 20, 29, 39, 0.8]);
});

Boxes.run();
