/**
 * ParallelDetector (src/node/parallel.ts) against Detector: the same
 * total_boxes and points, bit for bit, on photos whose pyramids, crop batches
 * and worker counts split the work in different ways; how the pyramid
 * levels are shared out (src/parallel/spread.ts, shared with
 * WebParallelDetector, which test/browser.test.ts runs in Chromium); and
 * that a closed detector or a bad worker count is an error, not a hang.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector } from '../src/detect.ts';
import { MtcnnError } from '../src/errors.ts';
import { computeScales } from '../src/pipeline/pyramid.ts';
import { ParallelDetector } from '../src/node/parallel.ts';
import { shareLevels } from '../src/parallel/spread.ts';
import { WebParallelDetector } from '../src/parallel/web.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import { checkEqual } from './helpers/check.ts';
import { loadPhoto } from './helpers/photos.ts';

const Parallel = suite('parallel');
const weights = loadWeightsFile();
const detector = new Detector(weights);

Parallel('shareLevels: every level once, largest first to the least loaded worker', () => {
  const img = { width: 1366, height: 768, data: new Uint8Array(0) };
  const scales = computeScales(768, 1366, 20, 0.709); // 11 levels
  const parts = shareLevels(img, scales, 2);
  assert.equal([...parts[0], ...parts[1]].sort((a, b) => a - b), scales.map((_, i) => i));
  // The first level (461x820) holds about half the pixels: levels 1-7 and 10
  // fill the other worker, 8 and 9 (the two that no longer fit there) the first.
  assert.equal(parts, [[0, 8, 9], [1, 2, 3, 4, 5, 6, 7, 10]]);
  assert.equal(shareLevels(img, scales.slice(0, 1), 3), [[0], [], []]);
});

for (const workers of [2, 3]) {
  Parallel(`${workers} workers: the same detections as Detector on hopkins1, bbt2, tiny_face, gray_face`, async () => {
    const parallel = new ParallelDetector(weights, { workers });
    try {
      for (const name of ['hopkins1', 'bbt2', 'tiny_face', 'gray_face']) {
        const photo = loadPhoto(name);
        const expected = detector.detectRaw(photo);
        const actual = await parallel.detectRaw(photo);
        assert.is(actual.boxes.rows, expected.boxes.rows, `${name}: faces`);
        checkEqual(`${name} boxes`, actual.boxes.data, expected.boxes.data);
        checkEqual(`${name} points`, actual.points, expected.points);
      }
      // options pass through: a larger minsize, and concurrent calls
      const photo = loadPhoto('hopkins1');
      const [a, b] = await Promise.all([parallel.detect(photo, { minsize: 40 }), parallel.detect(photo)]);
      assert.equal(a, detector.detect(photo, { minsize: 40 }));
      assert.equal(b, detector.detect(photo));
    } finally {
      await parallel.close();
    }
  });
}

Parallel('bad options are refused as by Detector', async () => {
  const parallel = new ParallelDetector(weights, { workers: 1 });
  try {
    await parallel.detect(loadPhoto('hopkins1'), { minsize: -1 }).then(
      () => assert.unreachable('should throw'),
      (e: Error) => assert.match(e.message, /minsize/),
    );
    // the opt-in chained pyramid cannot be shared out level by level: refused, not silently ignored
    await parallel.detect(loadPhoto('hopkins1'), { pyramid: 'from-previous' }).then(
      () => assert.unreachable('should throw'),
      (e: Error) => assert.match(e.message, /pyramid 'from-image'/),
    );
  } finally {
    await parallel.close();
  }
  for (const workers of [0, 1.5, 65, '2', NaN]) {
    assert.throws(() => new ParallelDetector(weights, { workers: workers as number }), /workers must be an integer from 1 to 64/);
  }
});

Parallel('after close(), calls in flight and later calls are rejected, not left waiting', async () => {
  const parallel = new ParallelDetector(weights, { workers: 2 });
  const photo = loadPhoto('bbt2');
  const outcome = (call: Promise<unknown>) => call.then(() => 'resolved', (e: MtcnnError) => `${e instanceof MtcnnError} ${e.code}: ${e.message}`);
  const inFlight = outcome(parallel.detect(photo));
  await parallel.close();
  assert.is(await inFlight, 'true WORKER: ParallelDetector is closed');
  assert.is(await outcome(parallel.detect(photo)), 'true WORKER: ParallelDetector is closed');
});

Parallel('WebParallelDetector without Web Workers (Node) says so and points at ParallelDetector', () => {
  assert.is((globalThis as { Worker?: unknown }).Worker, undefined, 'this test needs a runtime without Web Workers');
  try {
    new WebParallelDetector(weights);
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, MtcnnError);
    assert.is((e as MtcnnError).code, 'WORKER');
    assert.match((e as MtcnnError).message, /needs Web Workers.*ParallelDetector from 'mtcnn-ts\/node'/);
  }
});

Parallel.run();
