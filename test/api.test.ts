/**
 * The public API as users call it: input formats, the Face records, options
 * and their errors, and bulk detection equal to one-by-one detection.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector, MtcnnError } from '../src/index.ts';
import { bulkMinsize } from '../src/pipeline/pyramid.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, readJson } from './helpers/data.ts';
import { loadPhoto } from './helpers/photos.ts';

const Api = suite('api');
const detector = new Detector(loadWeightsFile());
const hopkins = loadPhoto('hopkins1');

function withChannels(img: { width: number; height: number; data: Uint8Array }, channels: 1 | 4) {
  const n = img.width * img.height;
  const data = new Uint8ClampedArray(n * channels);
  for (let p = 0; p < n; p++) {
    if (channels === 4) {
      data.set(img.data.subarray(p * 3, p * 3 + 3), p * 4);
      data[p * 4 + 3] = (p * 7) % 256; // alpha must be ignored, not composited
    } else data[p] = img.data[p * 3];
  }
  return { width: img.width, height: img.height, data };
}

Api("package.json's entries (., ./node, ./web) name the files the build makes from src/", () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  const entries = Object.entries(pkg.exports as Record<string, string | { types: string; default: string }>).filter(([, v]) => typeof v !== 'string');
  assert.equal(entries.map(([k]) => k), ['.', './node', './web']);
  for (const [name, target] of entries) {
    const { types, default: js } = target as { types: string; default: string };
    const source = js.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
    assert.ok(existsSync(join(REPO_ROOT, source)), `${name}: ${js} is built from ${source}, which is missing`);
    assert.is(types, js.replace(/\.js$/, '.d.ts'), `${name}: types beside the code`);
  }
});

Api('detect(): Face records equal the golden final boxes and points', () => {
  const trace = readJson('golden', 'hopkins1', 'trace.json');
  const faces = detector.detect(hopkins);
  assert.is(faces.length, trace.faces);
  const [x1, y1, x2, y2, score] = trace.final_boxes[0];
  const f = faces[0];
  for (const [a, e] of [[f.box[0], x1], [f.box[1], y1], [f.box[2], x2], [f.box[3], y2]]) assert.ok(Math.abs(a - e) < 1e-3, `${a} vs ${e}`);
  assert.ok(Math.abs(f.score - score) < 1e-5);
  assert.is(f.x, f.box[0]);
  assert.is(f.width, f.box[2] - f.box[0]);
  assert.is(f.height, f.box[3] - f.box[1]);
  // final_points is (10, n): x of the five landmarks, then their y
  const p = trace.final_points.map((row: number[]) => row[0]);
  assert.ok(Math.abs(f.landmarks.leftEye[0] - p[0]) < 1e-3 && Math.abs(f.landmarks.leftEye[1] - p[5]) < 1e-3);
  assert.ok(Math.abs(f.landmarks.mouthRight[0] - p[4]) < 1e-3 && Math.abs(f.landmarks.mouthRight[1] - p[9]) < 1e-3);
});

Api('RGBA (ImageData-like, alpha ignored) and RGB give the same faces', () => {
  assert.equal(detector.detect(withChannels(hopkins, 4)), detector.detect(hopkins));
});

Api('grayscale input is read as three equal channels', () => {
  const gray = loadPhoto('gray_face'); // decoded to RGB with equal channels
  assert.equal(detector.detect(withChannels(gray, 1)), detector.detect(gray));
});

Api('an image smaller than 12 px after scaling is valid and has no faces', () => {
  assert.equal(detector.detect({ width: 1, height: 1, data: new Uint8Array(3) }), []);
  assert.equal(detector.detect({ width: 30, height: 19, data: new Uint8Array(30 * 19 * 3) }), []);
});

Api('a second detection and a second detector give identical results', () => {
  const first = detector.detect(hopkins);
  assert.equal(detector.detect(hopkins), first);
  assert.equal(new Detector(loadWeightsFile()).detect(hopkins), first);
});

Api('bad options are refused with an MtcnnError naming the option', () => {
  const cases: [object, RegExp][] = [
    [{ minsize: 0 }, /minsize/],
    [{ minsize: NaN }, /minsize/],
    [{ factor: 1 }, /factor/],
    [{ factor: 0 }, /factor/],
    [{ thresholds: [0.6, 0.7] }, /thresholds/],
    [{ thresholds: [0.6, 0.7, 1.5] }, /thresholds/],
    [{ minsize: 0.01 }, /maxPixels/], // a 1200x first level per pixel: over the memory bound
    [{ minSize: 40 }, /unknown option 'minSize'/], // a misspelt option is not silently ignored
  ];
  for (const [options, pattern] of cases) {
    try {
      detector.detect(hopkins, options);
      assert.unreachable(`accepted ${JSON.stringify(options)}`);
    } catch (e) {
      assert.instance(e, MtcnnError);
      assert.match((e as Error).message, pattern);
    }
  }
});

Api('bulk detection equals detecting each image alone with its ratio minsize', () => {
  const photos = ['hopkins1', 'bbt3', 'tiny_face', 'gray_face'].map(loadPhoto);
  const ratio = 0.1;
  const bulk = detector.detectBatch(photos, { minsizeRatio: ratio });
  assert.is(bulk.length, photos.length);
  let faces = 0;
  photos.forEach((img, i) => {
    const minsize = bulkMinsize(img.height, img.width, ratio);
    assert.equal(bulk[i], detector.detect(img, { minsize }), `image ${i}`);
    faces += bulk[i].length;
  });
  assert.ok(faces >= 4, 'the batch finds faces');
});

Api.run();
