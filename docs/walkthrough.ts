/**
 * `npm run docs`: writes docs/walkthrough.md, a walkthrough of MTCNN in which
 * every number is computed here, with this project's own code, on the
 * shared photos (../shared/mtcnn/images, or $MTCNN_DATA/images). The prose
 * lives in this file around the numbers; edit it here, never in the .md.
 *
 * Sections, in the order of the document (each links the src/ file it explains):
 *   the cascade      a detection's funnel, window counts per step (detect.ts)
 *   pyramid          P-Net layer by layer on one 12x12 window; map sizes; the
 *                    map equals P-Net run on every window alone (nets/pnet.ts)
 *   cost             levels and P-Net MACs of a 1200x1200 photo at minsize 20/40/80
 *                    (pipeline/pyramid.ts)
 *   normalisation    (x - 127.5) * 0.0078125 on every byte value (image/prepare.ts)
 *   cell -> box      one real P-Net cell of hopkins1, its box, its calibration
 *                    (pipeline/boxes.ts, pipeline/stage1.ts)
 *   bbreg            R-Net's regression of one real window (pipeline/stage2.ts)
 *   nets             parameters (weights/schema.ts) and MACs (bench/flops.ts)
 *   time             stage times per photo, medians after a warm-up (detectTimed)
 *   speed-ups        minsize 20/40/80/proportional and pyramid 'from-previous'
 *                    on the two large photos: time and faces against the default
 *
 * Runs in about a minute and a half on a 2-core machine; timings vary run to run.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Detector, toFaces } from '../src/detect.ts';
import { normalizeTransposed } from '../src/image/prepare.ts';
import { convLayer, maxPoolLayer, softmaxLayer, type Activation } from '../src/nets/layers.ts';
import { pnet } from '../src/nets/pnet.ts';
import { bbreg, rerec } from '../src/pipeline/boxes.ts';
import { bulkMinsize, computeScales, levelSize } from '../src/pipeline/pyramid.ts';
import { STAGES, type Stage, type StageTimings } from '../src/pipeline/timing.ts';
import type { TraceArray, TraceCall } from '../src/pipeline/trace.ts';
import type { DetectOptions, Face, RgbImage } from '../src/types.ts';
import { SCHEMA } from '../src/weights/schema.ts';
import type { MtcnnWeights, NetName } from '../src/weights/format.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import { onetComputedMacs, onetMacs, pnetComputedMacs, pnetMacs, rnetComputedMacs, rnetMacs } from '../bench/flops.ts';
import { cpuMs, defaultPhotos, loadPhoto, macsOf, median, REPO_ROOT, type NetWork, type Photo } from '../bench/lib.ts';

const OUT = join(REPO_ROOT, 'docs', 'walkthrough.md');
/** Timed runs per configuration, after one warm-up run. */
const RUNS = 5;
const RUNS_LARGE = 3; // photos over a megapixel: a run takes seconds
/** The photos of the speed-up section, and the square photo size of the cost section. */
const LARGE = ['bbt1', 'portrait_ks'];
const SQUARE = 1200;

const started = performance.now();
const weights: MtcnnWeights = loadWeightsFile();
const detector = new Detector(weights);
const photos = defaultPhotos().map(loadPhoto);
const photo = (name: string): Photo => {
  const p = photos.find((x) => x.name === name);
  if (p === undefined) throw new Error(`photo ${name} missing from the shared photos`);
  return p;
};
const log = (s: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${s}\n`);

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

const src = (path: string, label = path) => `[${label}](../${path})`;
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const fix = (x: number, d: number) => x.toFixed(d);
const pct = (x: number) => (x > 0 && x < 0.0005 ? '<0.1%' : x > 0 && x < 0.01 ? `${(100 * x).toFixed(1)}%` : `${(100 * x).toFixed(0)}%`);
/** `a + d·w` with the sign of d written as an operator: `83 − 0.0422·103`. */
const plus = (a: number, d: number, w: number, digits = 4) => `${a} ${d < 0 ? '−' : '+'} ${fix(Math.abs(d), digits)}·${w}`;
/** 'a', 'a and b', 'a, b and c'. */
const list = (xs: string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);
const ms = (x: number) => (x < 10 ? x.toFixed(1) : x.toFixed(0));
const mmac = (x: number) => (x / 1e6 < 10 ? (x / 1e6).toFixed(2) : int(x / 1e6));
const gmac = (x: number) => (x / 1e9).toFixed(2);
const size = (w: number, h: number) => `${w}×${h}`;
const box = (b: ArrayLike<number>, d = 2) => `[${Array.from(b).slice(0, 4).map((v) => fix(v, d)).join(', ')}]`;

/** A markdown table; columns after the first are right-aligned unless `left` lists them. */
function table(header: string[], rows: (string | number)[][], left: number[] = [0]): string {
  const align = header.map((_, i) => (left.includes(i) ? '---' : '--:'));
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Running the detector
// ---------------------------------------------------------------------------------------------

/** A detection's window counts at each step, from its trace calls. */
interface Funnel {
  levels: number;
  cells: number; // P-Net map cells, all levels
  candidates: number; // cells over stage 1's threshold (generateBoundingBox rows)
  keptPerScale: number; // after each level's nms 0.5
  merged: number; // after the cross-scale nms 0.7: R-Net's crops
  mergeMaxIou: number; // the largest overlap (nms's IoU) between two windows the cross-scale nms was given
  rnetPassed: number;
  rnetKept: number; // after stage 2's nms: O-Net's crops
  onetPassed: number;
  faces: number;
}

interface Inspected {
  faces: Face[];
  work: NetWork;
  funnel: Funnel;
}

/** How many boxes an nms kept: its int16 picks (an empty input's result is recorded as float64 (0, 3)). */
const picks = (a: TraceArray) => (a.dtype === 'int16' ? a.shape[0] : 0);

/** One detection through the trace hook: its faces, the nets' work and the funnel. */
function inspect(image: RgbImage, options?: DetectOptions): Inspected {
  const work: NetWork = { pnetInputs: [], rnetCrops: 0, onetCrops: 0 };
  const f: Funnel = { levels: 0, cells: 0, candidates: 0, keptPerScale: 0, merged: 0, mergeMaxIou: 0, rnetPassed: 0, rnetKept: 0, onetPassed: 0, faces: 0 };
  const d = detector.detectRaw(image, options, (c: TraceCall) => {
    const a = c.arrays;
    switch (`${c.stage}:${c.fn}`) {
      case 'stage1:pnet':
        work.pnetInputs.push([a.in.shape[1], a.in.shape[2]]);
        f.levels++;
        f.cells += a.out1.shape[1] * a.out1.shape[2];
        break;
      case 'stage1:generateBoundingBox':
        f.candidates += a.boundingbox.shape[0];
        break;
      case 'stage1:nms':
        f.keptPerScale += picks(a.pick);
        break;
      case 'stage1-merge:nms':
        f.merged = picks(a.pick);
        f.mergeMaxIou = maxIou(a.boxes.data as Float64Array, a.boxes.shape[0], a.boxes.shape[1]);
        break;
      case 'stage2:rnet':
        work.rnetCrops += a.in.shape[0];
        break;
      case 'stage2:nms':
        f.rnetPassed = a.boxes.shape[0];
        f.rnetKept = picks(a.pick);
        break;
      case 'stage3:onet':
        work.onetCrops += a.in.shape[0];
        break;
      case 'stage3:nms':
        f.onetPassed = a.boxes.shape[0];
        break;
    }
  });
  f.faces = d.boxes.rows;
  return { faces: toFaces(d), work, funnel: f };
}

/** The largest overlap between two of n boxes (rows of `cols` values), as nms measures it: inclusive (+1) pixel areas. */
function maxIou(b: Float64Array, n: number, cols: number): number {
  let max = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const p = i * cols, q = j * cols;
      const iw = Math.max(0, Math.min(b[p + 2], b[q + 2]) - Math.max(b[p], b[q]) + 1);
      const ih = Math.max(0, Math.min(b[p + 3], b[q + 3]) - Math.max(b[p + 1], b[q + 1]) + 1);
      const area = (o: number) => (b[o + 2] - b[o] + 1) * (b[o + 3] - b[o + 1] + 1);
      max = Math.max(max, (iw * ih) / (area(p) + area(q) - iw * ih));
    }
  }
  return max;
}

interface Measured {
  timings: Record<Stage | 'total', number>; // wall-clock medians, ms
  cpu: number; // median CPU time of the process during one detection, ms
  runs: number;
}

/**
 * Times detections of one photo under several configurations, each already
 * run once (inspect() is the warm-up): `runs` rounds of every configuration
 * in turn (so all see the same machine), medians of detectTimed's stage times.
 */
function timeConfigs(image: RgbImage, configs: (DetectOptions | undefined)[], runs: number): Measured[] {
  const samples: StageTimings[][] = configs.map(() => []);
  const cpu: number[][] = configs.map(() => []);
  for (let r = 0; r < runs; r++) {
    configs.forEach((c, i) => {
      const c0 = cpuMs();
      samples[i].push(detector.detectTimed(image, c).timings);
      cpu[i].push(cpuMs() - c0);
    });
  }
  return samples.map((s, i) => {
    const timings = {} as Record<Stage | 'total', number>;
    for (const k of [...STAGES, 'total'] as const) timings[k] = median(s.map((t) => t[k]));
    return { timings, cpu: median(cpu[i]), runs };
  });
}

/** Faces of a run against reference faces: IoU-matched (>= 0.5), then same (every corner within 1 px) or moved; lost; new. */
interface FaceDiff {
  same: number;
  moved: number;
  lost: number;
  added: number;
  maxShift: number; // largest corner difference among matched faces, px
  lostSizes: number[]; // widths of the lost faces, px
}

function iou(a: Face['box'], b: Face['box']): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const area = (x: Face['box']) => (x[2] - x[0]) * (x[3] - x[1]);
  return inter / (area(a) + area(b) - inter);
}

function compareFaces(ref: Face[], got: Face[]): FaceDiff {
  const pairs: [number, number, number][] = [];
  ref.forEach((r, i) => got.forEach((g, j) => pairs.push([iou(r.box, g.box), i, j])));
  pairs.sort((p, q) => q[0] - p[0]);
  const refUsed = new Set<number>(), gotUsed = new Set<number>();
  const d: FaceDiff = { same: 0, moved: 0, lost: 0, added: 0, maxShift: 0, lostSizes: [] };
  for (const [o, i, j] of pairs) {
    if (o < 0.5 || refUsed.has(i) || gotUsed.has(j)) continue;
    refUsed.add(i);
    gotUsed.add(j);
    const shift = Math.max(...ref[i].box.map((v, k) => Math.abs(v - got[j].box[k])));
    d.maxShift = Math.max(d.maxShift, shift);
    if (shift <= 1) d.same++;
    else d.moved++;
  }
  ref.forEach((r, i) => {
    if (!refUsed.has(i)) {
      d.lost++;
      d.lostSizes.push(r.width);
    }
  });
  d.added = got.length - gotUsed.size;
  return d;
}

// ---------------------------------------------------------------------------------------------
// 1. The funnel, and hopkins1 step by step
// ---------------------------------------------------------------------------------------------

log('hopkins1, step by step');
const hopkins = photo('hopkins1');
const calls = detector.explain(hopkins.image).calls;
const at = (stage: string, fn: string) => calls.filter((c) => c.stage === stage && c.fn === fn);

/** The stage-1 levels of hopkins1: the level image, its scale, P-Net's maps and candidates. */
const levels = at('stage1', 'imresample').map((c, k) => {
  const [h, w] = c.arrays.out.shape;
  const g = at('stage1', 'generateBoundingBox')[k];
  return {
    image: { width: w, height: h, data: c.arrays.out.data as Uint8Array } as RgbImage,
    scale: g.params.scale as number,
    imap: g.arrays.imap, // (mh, mw) f32
    reg: g.arrays.reg, // (mh, mw, 4) f32
    boxes: g.arrays.boundingbox, // (n, 9) f64
  };
});

// The window P-Net is surest of: the cross-scale nms keeps the highest score first.
const merge = at('stage1-merge', 'nms')[0];
const mergedBoxes = merge.arrays.boxes.data as Float64Array; // (N, 9)
const top = Array.from(mergedBoxes.subarray(merge.arrays.pick.data[0] * 9, merge.arrays.pick.data[0] * 9 + 9));
// Its level and cell: the level whose candidates hold this row, the cell that made it.
const sameRow = (b: Float64Array, i: number) => top.every((v, k) => Object.is(v, b[i * 9 + k]));
const topLevel = levels.findIndex((l) => Array.from({ length: l.boxes.shape[0] }, (_, i) => i).some((i) => sameRow(l.boxes.data as Float64Array, i)));
const L = levels[topLevel];
if (L.boxes.shape[0] === 1) throw new Error('the followed level has one candidate (the flipud quirk): pick another window');
const [mh, mw] = L.imap.shape;
const STRIDE = 2, CELL = 12;
let cell: [r: number, c: number] | null = null;
for (let c = 0; c < mw && cell === null; c++) {
  for (let r = 0; r < mh && cell === null; r++) {
    const match =
      L.imap.data[r * mw + c] === top[4] &&
      Math.trunc((STRIDE * c + 1) / L.scale) === top[0] &&
      Math.trunc((STRIDE * r + 1) / L.scale) === top[1] &&
      [0, 1, 2, 3].every((k) => L.reg.data[(r * mw + c) * 4 + k] === top[5 + k]);
    if (match) cell = [r, c];
  }
}
if (cell === null) throw new Error('no cell of the level gives the followed window');
const [cr, cc] = cell;

// The 12x12 window of that cell in the level, fed to P-Net alone, layer by layer.
function levelPatch(level: RgbImage, y0: number, x0: number, n: number): Uint8Array {
  const out = new Uint8Array(n * n * 3); // (n, n, 3) u8
  for (let y = 0; y < n; y++) out.set(level.data.subarray(((y0 + y) * level.width + x0) * 3, ((y0 + y) * level.width + x0 + n) * 3), y * n * 3);
  return out;
}
const patch = levelPatch(L.image, STRIDE * cr, STRIDE * cc, CELL);
const patchInput = new Float32Array(CELL * CELL * 3);
normalizeTransposed(patch, CELL, CELL, patchInput); // as the pipeline feeds P-Net: normalised, transposed

/** Parameters of P-Net's layers (weights/schema.ts), a conv counted with the PReLU that follows it. */
const PRELU_OF: Record<string, string> = { conv1: 'PReLU1', conv2: 'PReLU2', conv3: 'PReLU3' };
const paramCount = (net: NetName, layer: string) =>
  SCHEMA.find((s) => s.net === net)!
    .tensors.filter((t) => t.layer === layer || t.layer === PRELU_OF[layer])
    .reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
const shapeOf = (x: Activation) => `${x.h}×${x.w}×${x.c}`;
const kernel = (layer: string) => weights.pnet[`${layer}/weights`].shape; // (KH, KW, C, OC)
const convText = (layer: string) => `${kernel(layer)[0]}×${kernel(layer)[1]} conv, ${kernel(layer)[3]} filters`;

const layerRows: string[][] = [];
let act: Activation = { data: patchInput, n: 1, h: CELL, w: CELL, c: 3 };
layerRows.push(['input', 'a 12×12 window, RGB, normalised', shapeOf(act), '']);
act = convLayer(weights.pnet, 'conv1', act, 'PReLU1');
layerRows.push(['conv1 + PReLU1', convText('conv1'), shapeOf(act), int(paramCount('pnet', 'conv1'))]);
act = maxPoolLayer(act, 2, 2, 'SAME');
layerRows.push(['pool1', '2×2 max-pool, stride 2', shapeOf(act), '0']);
act = convLayer(weights.pnet, 'conv2', act, 'PReLU2');
layerRows.push(['conv2 + PReLU2', convText('conv2'), shapeOf(act), int(paramCount('pnet', 'conv2'))]);
const features = convLayer(weights.pnet, 'conv3', act, 'PReLU3');
layerRows.push(['conv3 + PReLU3', convText('conv3'), shapeOf(features), int(paramCount('pnet', 'conv3'))]);
const prob = softmaxLayer(convLayer(weights.pnet, 'conv4-1', features));
layerRows.push(['conv4-1 + softmax', `${convText('conv4-1')}: face or not`, shapeOf(prob), int(paramCount('pnet', 'conv4-1'))]);
const regOut = convLayer(weights.pnet, 'conv4-2', features);
layerRows.push(['conv4-2', `${convText('conv4-2')}: box offsets`, shapeOf(regOut), int(paramCount('pnet', 'conv4-2'))]);
// The layer-by-layer replay is pnet() itself:
const whole = pnet(weights.pnet, patchInput, CELL, CELL);
if (!(whole.prob[1] === prob.data[1] && whole.reg.every((v, i) => v === regOut.data[i]))) throw new Error('layer replay differs from pnet()');
const patchScore = prob.data[1];

// P-Net on every 12x12 window of every level alone, against the levels' maps.
let windows = 0, maxWindowDiff = 0;
for (const lv of levels) {
  const [lh, lw] = lv.imap.shape;
  for (let r = 0; r < lh; r++) {
    for (let c = 0; c < lw; c++) {
      if (STRIDE * r + CELL > lv.image.height || STRIDE * c + CELL > lv.image.width) continue; // window past the edge
      const x = new Float32Array(CELL * CELL * 3);
      normalizeTransposed(levelPatch(lv.image, STRIDE * r, STRIDE * c, CELL), CELL, CELL, x);
      const p = pnet(weights.pnet, x, CELL, CELL).prob[1];
      maxWindowDiff = Math.max(maxWindowDiff, Math.abs(p - lv.imap.data[r * lw + c]));
      windows++;
    }
  }
}
const hopkinsCells = levels.reduce((a, lv) => a + lv.imap.shape[0] * lv.imap.shape[1], 0);

/** P-Net's map side for an input side n: conv1 (n - 2), pool ceil(/2), conv2 and conv3 (-2 each). */
const mapSide = (n: number) => Math.ceil((n - 2) / 2) - 4;
// Map sides for a few input sides (square inputs), by running P-Net; the formula must agree.
const mapSides = [12, 13, 14, 15, 16, 24, 100].map((n) => {
  const o = pnet(weights.pnet, new Float32Array(n * n * 3), n, n);
  if (o.oh !== mapSide(n)) throw new Error(`P-Net maps ${n} to ${o.oh}, the formula says ${mapSide(n)}`);
  return [n, o.oh];
});

// ---------------------------------------------------------------------------------------------
// 2. The cost of minsize and factor
// ---------------------------------------------------------------------------------------------

function pyramidCost(h: number, w: number, minsize: number, factor = 0.709) {
  const scales = computeScales(h, w, minsize, factor);
  const sizes = scales.map((s) => levelSize(h, w, s));
  const macs = sizes.map(([hs, ws]) => pnetMacs(weights, ws, hs)); // P-Net is fed the level transposed
  return {
    scales,
    sizes,
    macs,
    pixels: sizes.reduce((a, [hs, ws]) => a + hs * ws, 0),
    totalMacs: macs.reduce((a, b) => a + b, 0),
  };
}
const cost = [20, 40, 80].map((m) => ({ minsize: m, ...pyramidCost(SQUARE, SQUARE, m) }));
const c20 = cost[0];

// ---------------------------------------------------------------------------------------------
// 3. Normalisation
// ---------------------------------------------------------------------------------------------

const bytes = new Uint8Array(256 * 3).map((_, i) => Math.floor(i / 3)); // (1, 256, 3): every byte value
const normalised = new Float32Array(256 * 3);
normalizeTransposed(bytes, 1, 256, normalised);
const exact = Array.from({ length: 256 }, (_, v) => normalised[v * 3] === (v - 127.5) / 128).every(Boolean);
const normRows = [0, 1, 127, 128, 254, 255].map((v) => [v, String(normalised[v * 3]), `${2 * v - 255}/256`]);

// ---------------------------------------------------------------------------------------------
// 4, 5. The followed window: calibration in stage 1, bbreg in stage 2
// ---------------------------------------------------------------------------------------------

const [x1, y1, x2, y2, score, dx1, dy1, dx2, dy2] = top;
const regw = x2 - x1, regh = y2 - y1;
const moved = [x1 + dx1 * regw, y1 + dy1 * regh, x2 + dx2 * regw, y2 + dy2 * regh, score];
const squared = rerec({ rows: 1, cols: 5, data: Float64Array.from(moved) }).data;
const fixedBox = Array.from(squared).map((v, i) => (i < 4 ? Math.trunc(v) : v));
const stage1Out = at('stage1-merge', 'pad')[0].arrays.total_boxes.data as Float64Array; // (n, 5): row 0 is the first pick
if (!fixedBox.every((v, i) => v === stage1Out[i])) throw new Error('the followed window does not match stage 1 row 0');

const rnetCall = at('stage2', 'rnet')[0];
const rnetScore = rnetCall.arrays.out1.data[1]; // row 0 is the followed window
const s2nms = at('stage2', 'nms')[0];
const s2pick = s2nms.arrays.pick.data[0];
const s2before = Array.from((s2nms.arrays.boxes.data as Float64Array).subarray(s2pick * 5, s2pick * 5 + 5));
const s2bb = at('stage2', 'bbreg')[0];
const s2reg = Array.from((s2bb.arrays.reg.data as Float32Array).subarray(0, 4));
const s2after = Array.from((s2bb.arrays.out.data as Float64Array).subarray(0, 5));
const check = bbreg({ rows: 1, cols: 5, data: Float64Array.from(s2before) }, s2reg).data;
if (!s2after.every((v, i) => v === check[i])) throw new Error('bbreg replay differs from the trace');
const bw = s2before[2] - s2before[0] + 1, bh = s2before[3] - s2before[1] + 1;
const followedIsTop = [0, 1, 2, 3].every((i) => s2before[i] === fixedBox[i]);

// ---------------------------------------------------------------------------------------------
// 6. Parameters and MACs per net
// ---------------------------------------------------------------------------------------------

const params = (net: NetName) => SCHEMA.find((s) => s.net === net)!.tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
const perInput = { pnet: pnetMacs(weights, 12, 12), rnet: rnetMacs(weights), onet: onetMacs(weights) };
// As computed: Winograd's products for the 3x3 and 2x2 convs. P-Net on bbt1's first level (fed transposed).
const computedPerInput = { rnet: rnetComputedMacs(weights), onet: onetComputedMacs(weights) };
const [bbt1L0h, bbt1L0w] = levelSize(768, 1366, computeScales(768, 1366, 20, 0.709)[0]);
const bbt1L0 = { direct: pnetMacs(weights, bbt1L0w, bbt1L0h), computed: pnetComputedMacs(weights, bbt1L0w, bbt1L0h) };

// ---------------------------------------------------------------------------------------------
// 7, 8. Timings: the large photos under every configuration, the others by default
// ---------------------------------------------------------------------------------------------

interface Config {
  label: string;
  options?: DetectOptions;
  minsize: number;
}
function configsFor(p: Photo): Config[] {
  const prop = bulkMinsize(p.image.height, p.image.width, 0.1); // bulk_detect_face's rule, ratio 0.1
  return [
    { label: 'default (minsize 20)', minsize: 20 },
    { label: 'minsize 40', options: { minsize: 40 }, minsize: 40 },
    { label: 'minsize 80', options: { minsize: 80 }, minsize: 80 },
    { label: `0.1 × min(h, w) → ${prop}`, options: { minsize: prop }, minsize: prop },
    { label: "pyramid 'from-previous'", options: { pyramid: 'from-previous' }, minsize: 20 },
  ];
}

interface SpeedRow {
  config: Config;
  measured: Measured;
  inspected: Inspected;
  pnetMacs: number;
  diff: FaceDiff;
}
/** The 1-minute load average as the timings begin: how busy the machine was. */
const LOAD = os.loadavg()[0].toFixed(2);
const speed = new Map<string, SpeedRow[]>();
const timed = new Map<string, { measured: Measured; inspected: Inspected }>();
for (const name of LARGE) {
  const p = photo(name);
  log(`${name}: ${configsFor(p).length} configurations, ${RUNS_LARGE} runs each`);
  const configs = configsFor(p);
  const inspected = configs.map((c) => inspect(p.image, c.options));
  const measured = timeConfigs(p.image, configs.map((c) => c.options), RUNS_LARGE);
  speed.set(
    name,
    configs.map((config, i) => ({
      config,
      measured: measured[i],
      inspected: inspected[i],
      pnetMacs: macsOf(weights, inspected[i].work).pnet,
      diff: compareFaces(inspected[0].faces, inspected[i].faces),
    })),
  );
  timed.set(name, { measured: measured[0], inspected: inspected[0] });
}
for (const p of photos) {
  if (timed.has(p.name)) continue;
  log(`${p.name}: ${RUNS} runs`);
  const inspected = inspect(p.image);
  timed.set(p.name, { measured: timeConfigs(p.image, [undefined], RUNS)[0], inspected });
}
// pyramid 'from-previous' on every photo: faces against the default
log("pyramid 'from-previous' on every photo");
const fromPrevious = photos.map((p) => {
  const ref = timed.get(p.name)!.inspected.faces;
  const got = speed.get(p.name)?.[4].inspected.faces ?? detector.detect(p.image, { pyramid: 'from-previous' });
  return { name: p.name, ref: ref.length, got: got.length, diff: compareFaces(ref, got) };
});

// ---------------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------------

const today = new Date().toISOString().slice(0, 10);
const cpus = os.cpus();
const MACHINE = `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${os.platform()} ${os.arch()}, Node ${process.version}`;
const hopkinsFunnel = timed.get('hopkins1')!.inspected.funnel;
const bbt1Funnel = timed.get('bbt1')!.inspected.funnel;

const funnelRows = (
  [
    ['pyramid levels', 'levels', 'pipeline/pyramid.ts'],
    ['P-Net map cells (12×12 windows looked at)', 'cells', 'nets/pnet.ts'],
    ['cells scoring ≥ 0.6: candidate windows', 'candidates', 'pipeline/boxes.ts'],
    ['after nms 0.5 within each level', 'keptPerScale', 'pipeline/stage1.ts'],
    ['after nms 0.7 across levels: R-Net crops', 'merged', 'pipeline/stage1.ts'],
    ['R-Net score > 0.7', 'rnetPassed', 'pipeline/stage2.ts'],
    ['after nms 0.7: O-Net crops', 'rnetKept', 'pipeline/stage2.ts'],
    ['O-Net score > 0.7', 'onetPassed', 'pipeline/stage3.ts'],
    ['after nms 0.7 (Min): faces', 'faces', 'pipeline/stage3.ts'],
  ] as [string, keyof Funnel, string][]
).map(([label, key, file]) => [label, int(hopkinsFunnel[key]), int(bbt1Funnel[key]), src(`src/${file}`, file)]);
const funnels = [...timed.values()].map((t) => t.inspected.funnel);
const mergeRemovedNothing = funnels.every((f) => f.merged === f.keptPerScale);
const mergeMaxIou = Math.max(...funnels.map((f) => f.mergeMaxIou));

// The window sizes of the followed cell
const boxWidth = x2 - x1; // fix((2c + 12)/s) - fix((2c + 1)/s)

// Time: per photo, stage 1's share, the nets' speed on bbt1
const timeRows = photos.map((p) => {
  const t = timed.get(p.name)!;
  const s = t.measured.timings;
  const stage1 = (s.pyramid + s.pnet) / s.total;
  return { p, t, s, stage1, macs: macsOf(weights, t.inspected.work) };
});
const byStage1 = [...timeRows].sort((a, b) => a.stage1 - b.stage1);
const lo = byStage1[0], hi = byStage1[byStage1.length - 1];
const sumAll = (f: (r: (typeof timeRows)[number]) => number) => timeRows.reduce((a, r) => a + f(r), 0);
const overall = sumAll((r) => r.s.pyramid + r.s.pnet) / sumAll((r) => r.s.total);
const over70 = timeRows.filter((r) => r.stage1 >= 0.7).map((r) => r.p.name);
const rnetHeavy = timeRows.filter((r) => r.s.rnet > r.s.pnet).map((r) => r.p.name);
const maxNmsShare = Math.max(...timeRows.map((r) => r.s.nms / r.s.total));
const bbt1Row = timeRows.find((r) => r.p.name === 'bbt1')!;
const perMs = (macs: number, t: number) => fix(macs / t / 1e6, 2); // GMAC/s = MMAC/ms
const bbt1PnetPerCell = bbt1Row.macs.pnet / bbt1Funnel.cells;
const netSpeeds = [bbt1Row.macs.pnet / bbt1Row.s.pnet, bbt1Row.macs.rnet / bbt1Row.s.rnet, bbt1Row.macs.onet / bbt1Row.s.onet];
const netSpeedSpread = Math.max(...netSpeeds) / Math.min(...netSpeeds);

// Speed-ups
const speedTable = (name: string) => {
  const rows = speed.get(name)!;
  const base = rows[0].measured.cpu;
  return table(
    ['configuration', 'levels', 'P-Net MMAC', 'R-Net crops', 'ms', 'CPU ms', 'speed-up', 'pyramid ms', 'faces', 'same', 'moved (max px)', 'lost', 'new'],
    rows.map((r) => [
      r.config.label,
      r.inspected.funnel.levels,
      mmac(r.pnetMacs),
      int(r.inspected.work.rnetCrops),
      ms(r.measured.timings.total),
      ms(r.measured.cpu),
      `${fix(base / r.measured.cpu, 2)}×`,
      ms(r.measured.timings.pyramid),
      r.inspected.faces.length,
      r.diff.same,
      r.diff.moved === 0 ? '0' : `${r.diff.moved} (${fix(r.diff.maxShift, 1)})`,
      r.diff.lost === 0 ? '0' : `${r.diff.lost} (${r.diff.lostSizes.map((w) => `${fix(w, 0)} px`).join(', ')} wide)`,
      r.diff.added,
    ]),
    [0],
  );
};
/** The larger-minsize rows (1 to 3) of both large photos. */
const minsizeRows = LARGE.flatMap((n) => speed.get(n)!.slice(1, 4).map((r) => ({ name: n, ...r })));
const minsizeLost = minsizeRows.reduce((a, r) => a + r.diff.lost, 0);
const minsizeMaxShift = Math.max(...minsizeRows.map((r) => r.diff.maxShift));
const smallestFace = LARGE.map((n) => ({ name: n, width: Math.min(...timed.get(n)!.inspected.faces.map((f) => f.width)) }));
const biggestMinsize = Math.max(...minsizeRows.map((r) => r.config.minsize));
const bestMinsize = LARGE.map((n) => {
  const rows = speed.get(n)!;
  const best = rows.slice(1, 4).reduce((a, r) => (r.measured.cpu < a.measured.cpu ? r : a));
  return `${fix(rows[0].measured.cpu / best.measured.cpu, 1)}× on ${n} (${best.config.label})`;
});

const prevTotals = fromPrevious.reduce(
  (a, r) => ({ ref: a.ref + r.ref, same: a.same + r.diff.same, moved: a.moved + r.diff.moved, lost: a.lost + r.diff.lost, added: a.added + r.diff.added, maxShift: Math.max(a.maxShift, r.diff.maxShift) }),
  { ref: 0, same: 0, moved: 0, lost: 0, added: 0, maxShift: 0 },
);
/** Default (row 0) against 'from-previous' (row 4) on each large photo. */
const prevSummary = LARGE.map((name) => {
  const rows = speed.get(name)!;
  const d = rows[0].measured.timings, f = rows[4].measured.timings;
  const saved = d.pyramid - f.pyramid;
  const measured = rows[0].measured.cpu / rows[4].measured.cpu;
  const pnetNoise = Math.abs(f.pnet - d.pnet) / d.pnet;
  return { name, d, f, saved, expected: d.total / (d.total - saved), measured, pnetNoise, crops: [rows[0].inspected.work.rnetCrops, rows[4].inspected.work.rnetCrops] };
});

const doc = `<!-- Generated by \`npm run docs\` (docs/walkthrough.ts). Edit the script, not this file. -->

# How MTCNN works, measured

MTCNN finds faces with three small convolutional networks in a cascade.
P-Net looks at every 12×12 window of the photo, at many scales, and
proposes candidate windows; R-Net rescores each candidate from a 24×24
crop; O-Net rescores the survivors from a 48×48 crop and places five
landmarks. Each net also nudges the window's edges (box regression), and
overlapping windows are merged by non-maximum suppression (nms) after each
net.

This walkthrough answers the usual questions about it with this project's
own code. Every number below is computed by ${src('docs/walkthrough.ts')}
(\`npm run docs\`), which runs the detector of ${src('src/detect.ts')} on
the shared photos in \`../shared/mtcnn/images\`; none is typed by hand.
Counts (levels, windows, parameters, multiply-adds, faces) are the same on
every machine. Timings are not: they were measured on **${MACHINE}**, on
**${today}** (load average ${LOAD} when the timings began), they vary from
run to run, more so on a busy machine, and they are only meant to be
compared within one table.

The photos: ${photos.map((p) => `${p.name} (${size(p.image.width, p.image.height)})`).join(', ')}.

## The cascade at a glance

How many windows survive each step on hopkins1 (one face, close up) and on
bbt1 (four people in a wide shot), with the default options: minsize 20,
thresholds [0.6, 0.7, 0.7], factor 0.709.

${table(['step', 'hopkins1', 'bbt1', 'code'], funnelRows, [0, 3])}

P-Net judges ${int(bbt1Funnel.cells)} windows of bbt1, ${int(bbt1Funnel.merged)}
reach R-Net, ${int(bbt1Funnel.rnetKept)} reach O-Net and ${bbt1Funnel.faces}
are faces. Each net is larger than the one before and sees far fewer
windows: that is the point of a cascade.

${
  mergeRemovedNothing
    ? `One step does nothing on any of the ten photos: the nms across levels
(threshold 0.7) never removes a window. Within a level, the nms 0.5 has
already left no two windows overlapping by more than 0.5; and windows of
neighbouring levels differ in size by 1/0.709, so even two with the same
centre overlap by only about 0.709² ≈ 0.5. The largest overlap between any
two windows it is given, on any photo, is ${fix(mergeMaxIou, 3)}. It still
matters for parity: its picks put the windows in descending score order,
the order in which the later stages see them.`
    : `The nms across levels (threshold 0.7) removes few windows: the largest
overlap between two windows it is given is ${fix(mergeMaxIou, 3)}.`
}

## Why an image pyramid, and why P-Net takes any size

P-Net was trained on 12×12 windows: it only answers "is this 12×12 patch a
face?". To find a face of *s* pixels, the photo is shrunk by 12/*s* so that
the face becomes 12 pixels wide; to find faces of every size from
\`minsize\` up to the whole photo, P-Net runs on a pyramid of shrunk copies
(${src('src/pipeline/pyramid.ts')}, ${src('src/pipeline/stage1.ts')}).

P-Net is *fully convolutional*: it has no fully connected layer, only
convolutions and one pooling, so it runs on an input of any size ≥ 12 and
answers for every 12×12 window at once (${src('src/nets/pnet.ts')}; output
sizes from ${src('src/kernels/shape.ts')}). Here it is layer by layer, run
on one real 12×12 window (the hopkins1 window followed
[below](#from-a-p-net-cell-to-a-box)):

${table(['layer', 'what', 'output (H×W×C)', 'parameters'], layerRows, [0, 1])}

The 12×12×3 window becomes 1×1×32 features, then 1×1×2 (not face / face,
after softmax; here P(face) = ${fix(patchScore, 6)}) and 1×1×4 (how far to
move each edge). On a larger input the same layers give a map with one cell
per window, windows 2 pixels apart (the one 2×2 max-pool halves the
resolution):

${table(['input side', ...mapSides.map(([n]) => String(n))], [['map side', ...mapSides.map(([, m]) => String(m))]])}

An input side of *n* gives ⌈(*n* − 2)/2⌉ − 4 cells. An odd side gains a
last cell whose window would reach one pixel past the edge: the max-pool
pads with −∞ there (TensorFlow's \`SAME\` padding), so that cell sees only
11 real columns.

Running P-Net once on a whole level gives the same answers as running it
on every window alone, while sharing the work of overlapping windows. On
all ${levels.length} levels of hopkins1 (${int(hopkinsCells)} map cells),
P-Net run separately on each of the ${int(windows)} windows that lie wholly
inside their level gives the map's face probabilities
${maxWindowDiff === 0 ? '**bit for bit**' : `within ${maxWindowDiff.toExponential(1)} (float32 sums added in another order)`}.
The sharing is what makes P-Net cheap: on bbt1 it spends ${int(bbt1PnetPerCell)}
multiply-adds per map cell, against ${int(perInput.pnet)} for a window alone.

## What minsize and the factor 0.709 cost

The first level scales the photo by 12/minsize, so that a face of minsize
pixels becomes 12. Each next level is 0.709 times the size of the one
before, until the shorter side drops below 12
(${src('src/pipeline/pyramid.ts', 'pyramid.ts')}: \`computeScales\`). Why
0.709: 0.709² = ${fix(0.709 ** 2, 4)}, so each level has about half the
pixels of the one before (0.709 ≈ √2/2 = ${fix(Math.SQRT1_2, 4)}), and the
face sizes the levels are tuned to (12/scale) are √2 apart. P-Net still
fires on faces somewhat larger or smaller than 12 pixels (it was trained on
loosely cropped windows) and its regression fits the box to the face, so
steps of √2 leave no gaps. Since the levels halve, the whole pyramid has
about twice the pixels of its first level (1 + ½ + ¼ + … = 2), and P-Net's
work follows the pixels.

For a ${SQUARE}×${SQUARE} photo:

${table(
  ['minsize', 'levels', 'first level', 'pyramid pixels', 'P-Net GMAC', 'vs minsize 20'],
  cost.map((c) => [c.minsize, c.scales.length, size(c.sizes[0][1], c.sizes[0][0]), int(c.pixels), gmac(c.totalMacs), `${fix(c.totalMacs / c20.totalMacs, 3)}×`]),
)}

(GMAC: 10⁹ multiply-adds of P-Net's convolutions, counted from the layer
shapes by ${src('bench/flops.ts')}.) Doubling minsize divides the first
level's pixels by 4 and removes two levels, and P-Net's work drops to about
a quarter. At minsize 20, level by level:

${table(
  ['level', 'scale', 'level size', 'P-Net map', 'P-Net MMAC', 'share'],
  c20.scales.map((sc, k) => {
    const [hs, ws] = c20.sizes[k];
    return [k + 1, fix(sc, 4), size(ws, hs), size(mapSide(ws), mapSide(hs)), mmac(c20.macs[k]), pct(c20.macs[k] / c20.totalMacs)];
  }),
)}

The first level alone is ${pct(c20.macs[0] / c20.totalMacs)} of P-Net's
work and the first two ${pct((c20.macs[0] + c20.macs[1]) / c20.totalMacs)};
the last levels are almost free. What sets the cost is minsize, through the
size of the first level, not the number of levels. A factor closer to 1
gives more levels, closer together (more work, finer size steps); a
smaller factor gives fewer.

## Why \`(x − 127.5) × 0.0078125\`

The nets were trained on pixels mapped to about [−1, 1]: subtract the
middle of the byte range, 127.5, and multiply by 0.0078125 = 1/128
(${src('src/image/prepare.ts')}). Some byte values:

${table(['byte', 'normalised (float32)', 'as a fraction'], normRows)}

0 becomes −0.99609375 and 255 becomes +0.99609375. Because x − 127.5 is a
half-integer and 1/128 a power of two, every result is a multiple of 1/256
between −1 and 1, which a float32 holds exactly (${exact ? 'checked for all 256 byte values' : 'NOT true for every byte value'}):
no rounding happens in this step, and every port feeds the nets the very
same numbers. The same step also transposes the image (width and height
swapped): the original MATLAB/Caffe code was column-major, and the nets
were trained on transposed images.

## From a P-Net cell to a box

P-Net's map says "the window of cell (row, column) looks like a face";
generateBoundingBox (${src('src/pipeline/boxes.ts')}) turns the cell into a
box in the photo. Follow the window hopkins1's P-Net is surest of (the
highest score of all levels, which the nms across levels keeps first). It
comes from level ${topLevel + 1}: scale ${L.scale}, level size
${size(L.image.width, L.image.height)}, map ${mw}×${mh}; it is the cell at
row ${cr}, column ${cc}, with P(face) = ${fix(score, 6)} (stage 1 keeps
cells with P(face) ≥ 0.6).

\`\`\`
x1 = fix((stride·column + 1) / scale)        = fix((2·${cc} + 1) / ${fix(L.scale, 6)})  = fix(${fix((STRIDE * cc + 1) / L.scale, 3)}) = ${x1}
y1 = fix((stride·row + 1) / scale)           = fix((2·${cr} + 1) / ${fix(L.scale, 6)})  = fix(${fix((STRIDE * cr + 1) / L.scale, 3)}) = ${y1}
x2 = fix((stride·column + cellsize) / scale) = fix((2·${cc} + 12) / ${fix(L.scale, 6)}) = fix(${fix((STRIDE * cc + CELL) / L.scale, 3)}) = ${x2}
y2 = fix((stride·row + cellsize) / scale)    = fix((2·${cr} + 12) / ${fix(L.scale, 6)}) = fix(${fix((STRIDE * cr + CELL) / L.scale, 3)}) = ${y2}
\`\`\`

- **stride 2**: neighbouring cells are 2 level pixels apart (the one 2×2
  max-pool), so the window of column ${cc} starts at level pixel 2·${cc} = ${STRIDE * cc}.
- **cellsize 12**: the window covers level pixels 2·column to
  2·column + 11.
- **the +1**: the reference comes from MATLAB, whose pixels are numbered
  from 1. The first pixel, 2·column, is pixel 2·column + 1; the last,
  2·column + 11, is 2·column + 12, written \`stride*bb+cellsize-1+1\` in
  the code. The boxes stay 1-based up to the crops (pad() in
  ${src('src/pipeline/boxes.ts', 'boxes.ts')}).
- **divide by scale**: one level pixel is 1/scale photo pixels.
- **np.fix**: rounds toward zero (Math.trunc), so the corners are whole.

So the cell's box is [${x1}, ${y1}, ${x2}, ${y2}]. Note its size:
x2 − x1 = ${boxWidth}, about 11/scale = ${fix(11 / L.scale, 1)}, while the 12
level pixels P-Net saw cover 12/scale = ${fix(CELL / L.scale, 1)} photo pixels.
Dividing the *number* of the first pixel by the scale puts the box's left
edge where that pixel ends, not where it begins, so the box is about one
level pixel (${fix(1 / L.scale, 1)} photo pixels here) smaller than the window.
It is the reference's formula, kept for parity.

The same cell's four regression outputs say how far to move each edge, as
a fraction of the box's size: dx1 = ${fix(dx1, 4)}, dy1 = ${fix(dy1, 4)},
dx2 = ${fix(dx2, 4)}, dy2 = ${fix(dy2, 4)}. Stage 1 applies them once the
levels are merged (${src('src/pipeline/stage1.ts')}):

\`\`\`
regw = x2 − x1 = ${regw}       regh = y2 − y1 = ${regh}
x1 + dx1·regw = ${plus(x1, dx1, regw)} = ${fix(moved[0], 2)}
y1 + dy1·regh = ${plus(y1, dy1, regh)} = ${fix(moved[1], 2)}
x2 + dx2·regw = ${plus(x2, dx2, regw)} = ${fix(moved[2], 2)}
y2 + dy2·regh = ${plus(y2, dy2, regh)} = ${fix(moved[3], 2)}
\`\`\`

then squares the box about its centre, on its longer side (rerec):
${box(squared)}, and truncates the corners again (np.fix): ${box(fixedBox, 0)}.
That is the first row of stage 1's result, the first window R-Net crops.
R-Net gives it P(face) = ${fix(rnetScore, 6)}.

## How box regression corrects a box

R-Net and O-Net output the same four offsets per window, and bbreg
(${src('src/pipeline/boxes.ts')}, called by ${src('src/pipeline/stage2.ts')}
and ${src('src/pipeline/stage3.ts')}) moves each edge by its offset times
the box's width or height **+ 1**: MATLAB's inclusive pixel count, in which
a box from pixel 1 to pixel 10 is 10 pixels wide. The window R-Net is
surest of on hopkins1${followedIsTop ? ' (the one followed above)' : ''} is
${box(s2before, 0)}, with P(face) = ${fix(s2before[4], 6)}:

\`\`\`
w = x2 − x1 + 1 = ${bw}      h = y2 − y1 + 1 = ${bh}
x1 + dx1·w = ${plus(s2before[0], s2reg[0], bw)} = ${fix(s2after[0], 2)}
y1 + dy1·h = ${plus(s2before[1], s2reg[1], bh)} = ${fix(s2after[1], 2)}
x2 + dx2·w = ${plus(s2before[2], s2reg[2], bw)} = ${fix(s2after[2], 2)}
y2 + dy2·h = ${plus(s2before[3], s2reg[3], bh)} = ${fix(s2after[3], 2)}
\`\`\`

Then rerec squares it again, and stage 3 repeats crop, score and bbreg
with O-Net. Stage 1's calibration above used x2 − x1, without the +1: the
reference does it both ways and so does this port. The difference is the
offset times one pixel, at most ${fix(Math.max(...top.slice(5, 9).map(Math.abs)), 2)} px for the box above.

## Parameters and multiply-adds per net

Parameters counted from the weight shapes in ${src('src/weights/schema.ts')}
(weights, biases and PReLU slopes); multiply-adds (MAC) of the convolutions
and fully connected layers from ${src('bench/flops.ts')}. The nets:
${src('src/nets/pnet.ts')}, ${src('src/nets/rnet.ts')}, ${src('src/nets/onet.ts')}.

${table(
  ['net', 'input', 'parameters', 'as float32', 'MAC per input'],
  [
    ['P-Net', '12×12 window (or any size ≥ 12)', int(params('pnet')), `${fix((params('pnet') * 4) / 1024, 1)} KiB`, int(perInput.pnet)],
    ['R-Net', '24×24 crop', int(params('rnet')), `${fix((params('rnet') * 4) / 1024, 1)} KiB`, int(perInput.rnet)],
    ['O-Net', '48×48 crop', int(params('onet')), `${fix((params('onet') * 4) / 1024, 1)} KiB`, int(perInput.onet)],
  ],
  [0, 1],
)}

P-Net is tiny because it runs everywhere. O-Net has ${fix(params('onet') / params('pnet'), 0)}
times P-Net's parameters and costs ${int(perInput.onet / perInput.pnet)} times as much per
input, which is affordable because it sees only the few windows R-Net
passes.

These are the definitions' counts, and what the reference's numpy or
TensorFlow nets multiply. This project computes the 3×3 and 2×2
convolutions by Winograd's minimal filtering
(${src('src/kernels/winograd.ts')}): the same float32 outputs, from
fewer multiplies and some additions around them. R-Net then does
${int(computedPerInput.rnet)} multiply-adds per crop instead of ${int(perInput.rnet)},
O-Net ${int(computedPerInput.onet)} instead of ${int(perInput.onet)}, and P-Net on bbt1's
first level (${size(bbt1L0w, bbt1L0h)}) ${mmac(bbt1L0.computed)} million instead
of ${mmac(bbt1L0.direct)} million. The tables here count the definitions' MACs.

What each net did on each photo, in millions of MACs:

${table(
  ['photo', 'size', 'levels', 'P-Net MMAC', 'R-Net crops', 'R-Net MMAC', 'O-Net crops', 'O-Net MMAC'],
  timeRows.map((r) => [r.p.name, size(r.p.image.width, r.p.image.height), r.t.inspected.funnel.levels, mmac(r.macs.pnet), int(r.t.inspected.work.rnetCrops), mmac(r.macs.rnet), int(r.t.inspected.work.onetCrops), mmac(r.macs.onet)]),
)}

## Where the time goes

Stage times from \`detector.detectTimed()\` (${src('src/detect.ts')}; the
stages as ${src('src/pipeline/timing.ts')} defines them: *pyramid* is the
resizing, *P-Net* includes its input normalisation, *nms* is every box
helper of all three stages, *crops* cuts and resizes the 24×24 and 48×48
crops). Medians of ${RUNS} runs (${RUNS_LARGE} for ${list(LARGE)}) after a
warm-up, in one thread, on ${MACHINE}, ${today}. *total ms* is wall-clock
time, *CPU ms* the CPU time the process used over the same detection: on a
busy machine the first includes time other processes held the core, the
second does not, so it is the steadier of the two. The stage columns are
percentages of each photo's wall-clock total.

${table(
  ['photo', 'total ms', 'CPU ms', 'pyramid', 'P-Net', 'nms', 'crops', 'R-Net', 'O-Net', 'stage 1'],
  timeRows.map((r) => [r.p.name, ms(r.s.total), ms(r.t.measured.cpu), ...STAGES.map((st) => pct(r.s[st] / r.s.total)), `**${pct(r.stage1)}**`]),
)}

*Stage 1* is pyramid + P-Net. Its own nms and merge are in the nms column,
which is at most ${pct(maxNmsShare)} of any photo's time.

**Is stage 1 really about 80%?** Only on some photos. Over all ten photos
together it is ${pct(overall)} of the time; per photo it ranges from
${pct(lo.stage1)} (${lo.p.name}) to ${pct(hi.stage1)} (${hi.p.name})${
  over70.length === 0 ? ', and never reaches 70%' : over70.length === photos.length ? ', and is 70% or more on every photo' : `, and is 70% or more only on ${list(over70)}`
}. P-Net's work follows the pyramid's pixels (the photo's area over
minsize²); R-Net's follows the number of windows that survive stage 1,
which depends on what is in the photo. ${
  rnetHeavy.length > 0
    ? `R-Net takes longer than P-Net on ${list(rnetHeavy)}: bbt1 sends ${int(bbt1Row.t.inspected.work.rnetCrops)} crops to R-Net, ${mmac(bbt1Row.macs.rnet)} million MACs against P-Net's ${mmac(bbt1Row.macs.pnet)} million.`
    : `R-Net never takes longer than P-Net here; its largest batch is bbt1's ${int(bbt1Row.t.inspected.work.rnetCrops)} crops.`
} Stage 1 dominates on ${hi.p.name} (${size(hi.p.image.width, hi.p.image.height)}): a large pyramid,
${hi.t.inspected.faces.length === 1 ? 'one face' : `${hi.t.inspected.faces.length} faces`} and only ${int(hi.t.inspected.work.rnetCrops)} crops for R-Net; in a busy scene the
later stages catch up. On bbt1 the nets ran at
${perMs(bbt1Row.macs.pnet, bbt1Row.s.pnet)} (P-Net), ${perMs(bbt1Row.macs.rnet, bbt1Row.s.rnet)} (R-Net) and
${perMs(bbt1Row.macs.onet, bbt1Row.s.onet)} (O-Net) billion MACs per second, so the MAC
table above is ${netSpeedSpread < 1.5 ? 'a fair guide' : 'only a rough guide'} to where the time goes.

## Speed-ups and what they cost

Two common ways to make MTCNN faster on large photos, measured on the two
large shared photos, in time and in faces found. Faces are compared with
the default run's: matched by overlap (IoU ≥ 0.5), then **same** when every
corner is within 1 px and **moved** otherwise (with the largest corner
difference); **lost** are default faces left unmatched, **new** are faces
the default run did not find. Times are medians of ${RUNS_LARGE} runs after
a warm-up, all configurations taking turns in each round: wall-clock (ms)
and CPU time (CPU ms, the steadier one on a busy machine); speed-up is
the default's CPU time over the configuration's.

**A larger minsize** skips the largest pyramid levels: fewer and smaller
levels for P-Net, and fewer candidates for R-Net. The last minsize tried
is proportional to the photo: 0.1 × min(h, w), cut to a whole number by
\`bulkMinsize\` (${src('src/pipeline/pyramid.ts', 'pyramid.ts')}), the rule
of \`detectBatch({ minsizeRatio: 0.1 })\` and facenet's bulk_detect_face.
The price: faces smaller than minsize are no longer looked for, and the
faces still found come through other levels, so their boxes move by a few
pixels.

**Resizing each level from the previous one**: \`pyramid: 'from-previous'\`,
an option of this project that is off by default (\`stage1\` in
${src('src/pipeline/stage1.ts')}). detect_face() resizes every level from
the full photo; this option resizes level *k* from level *k* − 1 (the
first from the photo), so each resize reads a smaller image. The scales
and level sizes stay the same, but every level after the first has other
pixels (resampling twice is not resampling once), so scores and boxes
change.

### bbt1 (${size(photo('bbt1').image.width, photo('bbt1').image.height)})

${speedTable('bbt1')}

### portrait_ks (${size(photo('portrait_ks').image.width, photo('portrait_ks').image.height)})

${speedTable('portrait_ks')}

**What a larger minsize buys**: up to ${list(bestMinsize)}.
${
  minsizeLost === 0
    ? `No face was lost: the smallest faces of these photos are ${list(smallestFace.map((f) => `${fix(f.width, 0)} px wide (${f.name})`))}, and the largest minsize tried is ${biggestMinsize}. On a photo with smaller faces, those below minsize would be missed.`
    : `${minsizeLost} faces were lost (their widths are in the table): faces narrower than minsize are not looked for.`
} The faces kept moved by up to ${fix(minsizeMaxShift, 1)} px.

**What 'from-previous' buys**: the resizing drops ${list(
  prevSummary.map((s) => `from ${ms(s.d.pyramid)} to ${ms(s.f.pyramid)} ms on ${s.name} (${pct(s.saved / s.d.total)} of the detection)`),
)}. That is all it can save, since P-Net still runs on levels of the same
sizes: the expected speed-up is ${list(prevSummary.map((s) => `${fix(s.expected, 2)}× (${s.name})`))}.
The measured ones, ${list(prevSummary.map((s) => `${fix(s.measured, 2)}×`))}, carry
run-to-run noise: P-Net does the same work in both configurations, yet its
time differs between them by ${list(prevSummary.map((s) => `${pct(s.pnetNoise)} (${s.name})`))}${
  prevSummary.every((s) => s.pnetNoise * s.d.pnet > s.saved) ? ', more than the resizing saves' : ''
}. R-Net's batch also changes with the candidates
(${list(prevSummary.map((s) => `${int(s.crops[0])} → ${int(s.crops[1])} crops on ${s.name}`))}).
Over all ten photos, 'from-previous' finds ${prevTotals.same + prevTotals.moved}
of the default's ${prevTotals.ref} faces (${prevTotals.same} within 1 px,
${prevTotals.moved} moved by up to ${fix(prevTotals.maxShift, 1)} px), loses
${prevTotals.lost} and adds ${prevTotals.added}:

${table(
  ['photo', 'default faces', "'from-previous' faces", 'same', 'moved (max px)', 'lost', 'new'],
  fromPrevious.map((r) => [r.name, r.ref, r.got, r.diff.same, r.diff.moved === 0 ? '0' : `${r.diff.moved} (${fix(r.diff.maxShift, 1)})`, r.diff.lost, r.diff.added]),
)}

In short: on large photos a larger minsize buys the most, at the price of
the faces smaller than it; 'from-previous' buys a few percent and moves
boxes. Neither is what detect_face() does, so both are opt-in and the
defaults stay the reference's.

---

Reproduce with \`npm run docs\`, which took ${fix((performance.now() - started) / 60000, 1)} minutes
here and rewrites this file.
`;

writeFileSync(OUT, doc);
log(`wrote ${OUT}`);
