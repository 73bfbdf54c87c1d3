/**
 * The opt-in `pyramid: 'from-previous'` option (DetectOptions.pyramid,
 * pipeline/stage1.ts): off by default, where results are detect_face()'s
 * exactly; when on, each level after the first is resized from the level
 * before it; a bad value is refused.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector, MtcnnError } from '../src/index.ts';
import type { DetectOptions, RgbImage } from '../src/types.ts';
import { imresample } from '../src/image/imresample.ts';
import { resolveOptions } from '../src/options.ts';
import { computeScales, levelSize } from '../src/pipeline/pyramid.ts';
import type { TraceCall } from '../src/pipeline/trace.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import { readJson } from './helpers/data.ts';
import { loadPhoto } from './helpers/photos.ts';

const PyramidOption = suite('pyramid-option');
const detector = new Detector(loadWeightsFile());
const hopkins: RgbImage = loadPhoto('hopkins1');

/** The stage-1 pyramid levels a detection made, in order. */
function levels(options?: DetectOptions): RgbImage[] {
  const out: RgbImage[] = [];
  detector.detectRaw(hopkins, options, (c: TraceCall) => {
    if (c.fn === 'imresample' && c.stage === 'stage1') {
      const [height, width] = c.arrays.out.shape;
      out.push({ width, height, data: c.arrays.out.data as Uint8Array });
    }
  });
  return out;
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => Object.is(v, b[i]));

PyramidOption('the default is from-image, and gives the golden result bit for bit with or without the option', () => {
  assert.is(resolveOptions().pyramid, 'from-image');
  const plain = detector.detectRaw(hopkins);
  const named = detector.detectRaw(hopkins, { pyramid: 'from-image' });
  assert.ok(same(plain.boxes.data, named.boxes.data), 'boxes');
  assert.ok(same(plain.points, named.points), 'points');
  const trace = readJson('golden', 'hopkins1', 'trace.json');
  assert.is(plain.boxes.rows, trace.faces);
  trace.final_boxes.forEach((row: number[], i: number) => {
    row.forEach((e, c) => assert.ok(Math.abs(plain.boxes.data[i * 5 + c] - e) < 1e-3, `box ${i}, column ${c}: ${plain.boxes.data[i * 5 + c]} vs ${e}`));
  });
});

PyramidOption('from-previous: same level sizes; level 0 from the image, level k resized from level k-1', () => {
  const prev = levels({ pyramid: 'from-previous' });
  const image = levels();
  const scales = computeScales(hopkins.height, hopkins.width, 20, 0.709);
  assert.is(prev.length, scales.length);
  assert.ok(prev.length >= 3, `${prev.length} levels`);
  prev.forEach((lvl, k) => {
    const [hs, ws] = levelSize(hopkins.height, hopkins.width, scales[k]);
    assert.equal([lvl.height, lvl.width], [hs, ws], `level ${k} size`);
    const src = k === 0 ? hopkins : prev[k - 1];
    assert.ok(same(lvl.data, imresample(src.data, src.height, src.width, hs, ws)), `level ${k} = INTER_AREA of ${k === 0 ? 'the image' : `level ${k - 1}`}`);
  });
  assert.ok(same(prev[0].data, image[0].data), 'the first level is the reference one');
  assert.ok(prev.slice(1).some((lvl, k) => !same(lvl.data, image[k + 1].data)), 'some later level differs from the reference one');
});

PyramidOption('from-previous still finds faces: finite boxes, scores above the O-Net threshold', () => {
  const faces = detector.detect(hopkins, { pyramid: 'from-previous' });
  assert.ok(faces.length >= 1);
  for (const f of faces) {
    assert.ok(f.box.every(Number.isFinite), `box ${f.box}`);
    assert.ok(f.score > 0.7 && f.score <= 1, `score ${f.score}`);
  }
});

PyramidOption('a bad pyramid value is refused with BAD_OPTIONS', () => {
  for (const bad of ['from-prev', 'FROM-IMAGE', '', null, 1, true, {}]) {
    try {
      detector.detect(hopkins, { pyramid: bad as never });
      assert.unreachable(`pyramid ${String(bad)} accepted`);
    } catch (e) {
      assert.instance(e, MtcnnError);
      assert.is((e as MtcnnError).code, 'BAD_OPTIONS');
      assert.match((e as Error).message, /pyramid/);
    }
  }
});

PyramidOption.run();
