/**
 * Resources and independence: repeated detections do not grow the heap or
 * the typed-array memory; detections share no mutable state (two detectors,
 * concurrent calls, and the stage functions of several images interleaved,
 * each holding its intermediate arrays while the others run, all give the
 * bits of one detection alone); detection never writes to the weights.
 *
 * The long versions (500 runs, an 8-megapixel photo) are scripts, not tests:
 * bench/soak.ts and bench/memory.ts (docs/hardening.md).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { Detector } from '../src/index.ts';
import type { Detections, MtcnnWeights, RgbImage } from '../src/index.ts';
import { toRgb } from '../src/image/prepare.ts';
import type { BoxArray } from '../src/pipeline/boxes.ts';
import { cropBatch } from '../src/pipeline/crop.ts';
import { computeScales } from '../src/pipeline/pyramid.ts';
import { mergeScales, proposeAtScale } from '../src/pipeline/stage1.ts';
import { refine, runRnet } from '../src/pipeline/stage2.ts';
import { finish, fixAndPad, runOnet } from '../src/pipeline/stage3.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import { loadPhoto } from './helpers/photos.ts';
import { getGc, sameBits } from '../bench/lib.ts';

const Res = suite('resources');

const weights = loadWeightsFile();
const detector = new Detector(weights);

/** zlib CRC-32 of every tensor's bytes, by net and name. */
function digest(w: MtcnnWeights): string {
  const parts: string[] = [];
  for (const net of ['pnet', 'rnet', 'onet'] as const) {
    for (const [k, t] of Object.entries(w[net])) {
      parts.push(`${net}/${k}:${zlibCrc32(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))}`);
    }
  }
  return parts.join(' ');
}

Res('soak: 50 detections of one photo, heap and typed-array memory flat after warm-up, same bits each time', () => {
  const gc = getGc();
  const photo = loadPhoto('hopkins1'); // 250x250, one face
  const first = detector.detectRaw(photo);
  assert.ok(first.boxes.rows >= 1);
  for (let i = 0; i < 9; i++) detector.detectRaw(photo); // warm-up: JIT, lazily made buffers
  gc();
  gc();
  const before = process.memoryUsage();
  for (let i = 0; i < 40; i++) assert.ok(sameBits(detector.detectRaw(photo), first), `run ${i + 10} differs`);
  gc();
  gc();
  const after = process.memoryUsage();
  const mb = (n: number) => (n / 2 ** 20).toFixed(2);
  const heap = after.heapUsed - before.heapUsed,
    buffers = after.arrayBuffers - before.arrayBuffers;
  console.log(`  soak x40: heapUsed ${mb(before.heapUsed)} -> ${mb(after.heapUsed)} MiB, arrayBuffers ${mb(before.arrayBuffers)} -> ${mb(after.arrayBuffers)} MiB, rss ${mb(after.rss)} MiB`);
  // one detection allocates ~10 MiB of arrays: a leak of a fraction of a run per run shows
  assert.ok(heap < 8 * 2 ** 20, `heap grew by ${mb(heap)} MiB over 40 runs`);
  assert.ok(buffers < 8 * 2 ** 20, `typed-array memory grew by ${mb(buffers)} MiB over 40 runs`);
});

const EMPTY: Detections = { boxes: { rows: 0, cols: 5, data: new Float64Array(0) }, points: new Float64Array(0) };

function keepRows(b: BoxArray, kept: number[]): BoxArray {
  const data = new Float64Array(kept.length * b.cols);
  kept.forEach((k, j) => data.set(b.data.subarray(k * b.cols, (k + 1) * b.cols), j * b.cols));
  return { rows: kept.length, cols: b.cols, data };
}

/**
 * detect_face() from its stage functions, yielding to the event loop after
 * every step, so that several of these in Promise.all run step by step in
 * turn, each keeping its arrays (crops, net outputs) while the others run.
 */
async function detectStaged(w: MtcnnWeights, img: RgbImage, log: string[], tag: string): Promise<Detections> {
  const step = async (what: string) => {
    log.push(`${tag} ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  };
  const [t1, t2, t3] = [0.6, 0.7, 0.7];
  const candidates: BoxArray[] = [];
  for (const scale of computeScales(img.height, img.width, 20, 0.709)) {
    candidates.push(proposeAtScale(img, scale, t1, w.pnet));
    await step(`pnet ${scale}`);
  }
  const s1 = mergeScales(img, candidates);
  await step('merge');
  if (s1.boxes.rows === 0 || s1.pad === null) return EMPTY;
  const b2 = cropBatch(img, s1.pad, s1.boxes.rows, 24, 'stage2');
  await step('crops 24');
  const r = runRnet(w.rnet, b2.input, b2.kept.length);
  await step('rnet');
  const refined = refine(keepRows(s1.boxes, b2.kept), r, t2);
  await step('refine');
  if (refined.rows === 0) return EMPTY;
  const fixed = fixAndPad(refined, img.width, img.height);
  const b3 = cropBatch(img, fixed.pad, fixed.boxes.rows, 48, 'stage3');
  await step('crops 48');
  const o = runOnet(w.onet, b3.input, b3.kept.length);
  await step('onet');
  return finish(keepRows(fixed.boxes, b3.kept), o, t3);
}

Res('no shared state: stage functions of four detections interleaved step by step equal each detection alone', async () => {
  const photos = ['hopkins1', 'tiny_face', 'gray_face'].map((n) => toRgb(loadPhoto(n)));
  const alone = photos.map((p) => detector.detectRaw(p));
  assert.ok(alone.every((d) => d.boxes.rows >= 1), 'each photo has a face');
  const other = loadWeightsFile(); // a second copy of the weights, in its own buffer
  const log: string[] = [];
  const jobs: [MtcnnWeights, number][] = [[weights, 0], [other, 1], [weights, 2], [other, 0], [weights, 1]];
  const results = await Promise.all(jobs.map(([w, i], j) => detectStaged(w, photos[i], log, `job${j}`)));
  results.forEach((r, j) => assert.ok(sameBits(r, alone[jobs[j][1]]), `job ${j} (photo ${jobs[j][1]}) differs`));
  // the steps really alternated: the first rnet of one job comes after another job's crops
  const firstTags = log.slice(0, jobs.length).map((s) => s.split(' ')[0]);
  assert.equal(new Set(firstTags).size, jobs.length, `steps alternate: ${log.slice(0, 8).join(', ')}`);
});

Res('no shared state: two detectors, and concurrent async detections, give the same bits as one detector in turn', async () => {
  const photos = ['hopkins1', 'tiny_face'].map(loadPhoto);
  const sequential = photos.map((p) => detector.detectRaw(p));
  const second = new Detector(loadWeightsFile());
  const shared = new Detector(weights); // the same weights object
  const wrap = (d: Detector, p: (typeof photos)[number]) => Promise.resolve().then(() => d.detectRaw(p));
  const concurrent = await Promise.all([wrap(second, photos[1]), wrap(detector, photos[0]), wrap(shared, photos[1]), wrap(second, photos[0])]);
  assert.ok(sameBits(concurrent[0], sequential[1]) && sameBits(concurrent[2], sequential[1]));
  assert.ok(sameBits(concurrent[1], sequential[0]) && sameBits(concurrent[3], sequential[0]));
  // explain mode between two detections changes neither
  detector.explain(photos[1]);
  assert.ok(sameBits(detector.detectRaw(photos[0]), sequential[0]));
});

Res('detection never writes to the weights', () => {
  const before = digest(weights);
  detector.detectRaw(loadPhoto('tiny_face'));
  detector.detectBatch([loadPhoto('hopkins1'), loadPhoto('gray_face')], { minsizeRatio: 0.1 });
  detector.detect({ width: 32, height: 32, data: new Uint8Array(32 * 32 * 3).fill(77) }, { thresholds: [0, 0, 0], minsize: 12 }); // many candidates
  assert.is(digest(weights), before);
  assert.is(digest(loadWeightsFile()), before, 'and they still equal the file');
});

Res.run();
