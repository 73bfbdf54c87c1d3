/**
 * Every class of bad input to the public API gets an MtcnnError with the
 * right code and a message naming the problem, quickly, before any work or
 * allocation; edge-case inputs that are valid (1x1, 1xN, smaller than the
 * 12-pixel window) return no faces without error.
 *
 * Covered elsewhere, not repeated here: weights files (missing, truncated,
 * magic, version, tensor table, checksums) in weights.test.ts and the
 * mutation fuzz in weights-fuzz.test.ts; PNG files (PngSuite, corrupt and
 * truncated files, absurd IHDR sizes) in png.test.ts; the first option
 * errors and small images in api.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector, MtcnnError } from '../src/index.ts';
import { MAX_PYRAMID_LEVELS, checkPyramid, resolveOptions } from '../src/options.ts';
import { computeScales } from '../src/pipeline/pyramid.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import type { ImageInput } from '../src/types.ts';

const Bad = suite('bad-input');
const weights = loadWeightsFile();
const detector = new Detector(weights);

/** Runs fn, which must throw MtcnnError(code) matching every pattern, within `ms` milliseconds. */
function refused(label: string, fn: () => unknown, code: string, patterns: RegExp[], ms = 500): MtcnnError {
  const start = performance.now();
  try {
    fn();
  } catch (e) {
    const took = performance.now() - start;
    if (!(e instanceof MtcnnError)) throw new Error(`${label}: threw ${String(e)}, not an MtcnnError`);
    assert.is(e.code, code, `${label}: code (${e.message})`);
    for (const p of patterns) assert.match(e.message, p, `${label}: message ${JSON.stringify(e.message)}`);
    assert.ok(took < ms, `${label}: refused after ${took.toFixed(0)} ms, expected at once`);
    return e;
  }
  return assert.unreachable(`${label}: accepted, expected MtcnnError ${code}`) as never;
}

const gray = (w: number, h: number, v = 0) => ({ width: w, height: h, data: new Uint8Array(w * h).fill(v) });
const rgb12 = (data: ArrayLike<unknown>) => ({ width: 2, height: 2, data }); // 2x2 RGB: 12 values
const with3 = (i: number, v: unknown) => {
  const a: unknown[] = new Array(12).fill(0);
  a[i] = v;
  return a as number[];
};

Bad('images: sizes, data length, channels, value types and ranges -> BAD_IMAGE naming the problem', () => {
  const cases: [string, unknown, RegExp[]][] = [
    ['null', null, [/image must be an object/, /got null/]],
    ['a string', 'photo.png', [/image must be an object/, /"photo\.png"/]],
    ['a Symbol', Symbol('img'), [/image must be an object/, /Symbol\(img\)/]],
    ['zero width', { width: 0, height: 5, data: new Uint8Array(0) }, [/width and height must be positive integers/, /width 0/]],
    ['zero height', { width: 5, height: 0, data: new Uint8Array(0) }, [/positive integers/, /height 0/]],
    ['negative width', { width: -2, height: 2, data: new Uint8Array(12) }, [/positive integers/, /width -2/]],
    ['non-integer width', { width: 1.5, height: 2, data: new Uint8Array(9) }, [/positive integers/, /width 1\.5/]],
    ['NaN height', { width: 2, height: NaN, data: new Uint8Array(12) }, [/positive integers/, /height NaN/]],
    ['string width', { width: '2', height: 2, data: new Uint8Array(12) }, [/positive integers/, /width "2"/]],
    ['missing width', { height: 2, data: new Uint8Array(12) }, [/positive integers/, /width undefined/]],
    ['data missing', { width: 2, height: 2 }, [/image\.data must be an array/, /got undefined/]],
    ['data a number', { width: 2, height: 2, data: 12 }, [/image\.data must be an array/, /got 12/]],
    ['data a string', { width: 2, height: 2, data: 'abcdefghijkl' }, [/image\.data must be an array/]],
    ['data an ArrayBuffer', { width: 2, height: 2, data: new ArrayBuffer(12) }, [/image\.data must be an array/, /ArrayBuffer/]],
    ['data null', { width: 2, height: 2, data: null }, [/image\.data must be an array/, /got null/]],
    ['47 values for 4x4', { width: 4, height: 4, data: new Uint8Array(47) }, [/47 values for 4x4 pixels/, /1, 3 or 4 per pixel/]],
    ['2 channels', { width: 4, height: 4, data: new Uint8Array(32) }, [/32 values for 4x4 pixels/, /1, 3 or 4 per pixel/]],
    ['5 channels', { width: 4, height: 4, data: new Uint8Array(80) }, [/80 values for 4x4 pixels/]],
    ['channels: 2', { width: 4, height: 4, data: new Uint8Array(32), channels: 2 }, [/image\.channels must be 1, 3 or 4, got 2/]],
    ['channels: 5', { width: 4, height: 4, data: new Uint8Array(80), channels: 5 }, [/image\.channels must be 1, 3 or 4, got 5/]],
    ['channels: "3"', { width: 4, height: 4, data: new Uint8Array(48), channels: '3' }, [/channels must be 1, 3 or 4, got "3"/]],
    ['channels 3, RGBA data', { width: 4, height: 4, data: new Uint8Array(64), channels: 3 }, [/64 values, expected 4x4x3 = 48/]],
    ['channels 4, RGB data', { width: 4, height: 4, data: new Uint8Array(48), channels: 4 }, [/48 values, expected 4x4x4 = 64/]],
    ['channels 1, RGB data', { width: 4, height: 4, data: new Uint8Array(48), channels: 1 }, [/48 values, expected 4x4x1 = 16/]],
    ['NaN in Float32Array', rgb12(Float32Array.from(with3(3, NaN))), [/image\.data\[3\] is NaN/, /\[0, 255\]/]],
    ['Infinity in Float64Array', rgb12(Float64Array.from(with3(5, Infinity))), [/image\.data\[5\] is Infinity/]],
    ['-Infinity in an array', rgb12(with3(0, -Infinity)), [/image\.data\[0\] is -Infinity/]],
    ['negative in Float32Array', rgb12(Float32Array.from(with3(7, -0.5))), [/image\.data\[7\] is -0\.5/]],
    ['256 in an array', rgb12(with3(11, 256)), [/image\.data\[11\] is 256/]],
    ['255.5 in Float64Array', rgb12(Float64Array.from(with3(2, 255.5))), [/image\.data\[2\] is 255\.5/]],
    ['1000 in Uint16Array', rgb12(Uint16Array.from(with3(4, 1000))), [/image\.data\[4\] is 1000/]],
    ['-1 in Int8Array', rgb12(Int8Array.from(with3(1, -1))), [/image\.data\[1\] is -1/]],
    ['a string value', rgb12(with3(3, '5')), [/image\.data\[3\] is "5"/, /numbers in \[0, 255\]/]],
    ['a hole', { width: 2, height: 2, data: new Array(12) }, [/image\.data\[0\] is undefined/]],
    ['null value', rgb12(with3(6, null)), [/image\.data\[6\] is null/]],
    ['BigInt64Array', rgb12(new BigInt64Array(12)), [/image\.data\[0\] is 0n \(a BigInt\)/]],
    ['array-like without values', { width: 2, height: 2, data: { length: 12 } }, [/image\.data\[0\] is undefined/]],
    ['gray NaN', { width: 2, height: 1, data: [1, NaN] }, [/image\.data\[1\] is NaN/]],
  ];
  for (const [label, image, patterns] of cases) {
    refused(label, () => detector.detect(image as ImageInput), 'BAD_IMAGE', patterns);
  }
});

Bad('images: huge declared sizes are refused by maxPixels before the data is read or anything allocated', () => {
  let touched = 0;
  const data = {
    get length() {
      touched++;
      return 3e10;
    },
  };
  const before = process.memoryUsage().arrayBuffers;
  refused('100000x100000', () => detector.detect({ width: 1e5, height: 1e5, data } as ImageInput), 'BAD_IMAGE', [
    /image is 100000x100000, more than maxPixels \(67108864\)/,
  ]);
  refused('2^27 x 1', () => detector.detect({ width: 2 ** 27, height: 1, data } as ImageInput), 'BAD_IMAGE', [/more than maxPixels/]);
  refused('2^40 square', () => detector.detect({ width: 2 ** 40, height: 2 ** 40, data } as ImageInput), 'BAD_IMAGE', [/maxPixels/]);
  assert.is(touched, 0, 'image.data was not read');
  assert.ok(process.memoryUsage().arrayBuffers - before < 1e6, 'nothing allocated');
  // an explicit, smaller maxPixels refuses a real image the same way
  refused('50x50 over maxPixels 2499', () => detector.detect(gray(50, 50), { maxPixels: 2499 }), 'BAD_IMAGE', [
    /image is 50x50, more than maxPixels \(2499\)/,
  ]);
  assert.equal(detector.detect(gray(50, 50), { maxPixels: 2500 }), [], 'exactly maxPixels is accepted');
  // batch: the same bound, and the message names the image
  refused('batch', () => detector.detectBatch([gray(20, 20), { width: 1e5, height: 1e5, data }] as ImageInput[], { minsizeRatio: 0.1 }), 'BAD_IMAGE', [
    /^images\[1\]: image is 100000x100000, more than maxPixels/,
  ]);
  assert.is(touched, 0, 'image.data was not read (batch)');
});

Bad('images: tiny, thin and in-range float images are valid and have no faces', () => {
  const valid: [string, ImageInput][] = [
    ['1x1 gray', gray(1, 1, 200)],
    ['1x1 RGB', { width: 1, height: 1, data: new Uint8Array([1, 2, 3]) }],
    ['1x1 RGBA', { width: 1, height: 1, data: new Uint8ClampedArray([1, 2, 3, 4]) }],
    ['1x1 Float64Array', { width: 1, height: 1, data: new Float64Array([0, 127.5, 255]) }],
    ['1x500', gray(1, 500, 90)],
    ['500x1', gray(500, 1, 90)],
    ['11x500: below P-Net window at minsize 12', gray(11, 500, 90)],
    ['19x400 at minsize 20: smaller than 12 after scaling', gray(19, 400, 90)],
    ['12x12 noise-free: exactly one pyramid level at minsize 12', gray(12, 12, 255)],
    ['floats in [0, 255], -0 included', { width: 2, height: 2, data: [-0, 0.4, 254.6, 255, 1, 2, 3, 4, 5, 6, 7, 8] }],
  ];
  for (const [label, image] of valid) {
    const minsize = label.includes('minsize 12') ? 12 : 20;
    assert.equal(detector.detect(image, { minsize }), [], label);
  }
  assert.equal(computeScales(12, 12, 12, 0.709).length, 1, '12x12 at minsize 12 has one level');
});

Bad('options: each bad value -> BAD_OPTIONS naming the option', () => {
  const img = gray(40, 40);
  const cases: [unknown, RegExp[]][] = [
    [null, [/options must be an object/, /got null/]],
    [5, [/options must be an object/, /got 5/]],
    ['fast', [/options must be an object/, /got "fast"/]],
    [[20], [/options must be an object/, /got \[20\]/]],
    [true, [/options must be an object/]],
    [{ minsize: 0 }, [/minsize must be a finite number > 0, got 0$/]],
    [{ minsize: -20 }, [/minsize .* got -20$/]],
    [{ minsize: NaN }, [/minsize .* got NaN$/]],
    [{ minsize: Infinity }, [/minsize .* got Infinity$/]],
    [{ minsize: '20' }, [/minsize .* got "20"$/]],
    [{ minsize: null }, [/minsize .* got null$/]],
    [{ minsize: 20n }, [/minsize .* got 20n/]],
    [{ factor: 0 }, [/factor must be a number in \(0, 1\), got 0$/]],
    [{ factor: 1 }, [/factor .* got 1$/]], // the reference never returns
    [{ factor: 1.5 }, [/factor .* got 1\.5$/]],
    [{ factor: -0.1 }, [/factor .* got -0\.1$/]],
    [{ factor: NaN }, [/factor .* got NaN$/]],
    [{ factor: '0.7' }, [/factor .* got "0\.7"$/]],
    [{ factor: null }, [/factor .* got null$/]],
    [{ thresholds: [0.6, 0.7] }, [/thresholds must be three numbers in \[0, 1\], got \[0\.6, 0\.7\]$/]],
    [{ thresholds: [0.6, 0.7, 0.7, 0.7] }, [/thresholds .* got \[0\.6, 0\.7, 0\.7, 0\.7\]$/]],
    [{ thresholds: [] }, [/thresholds .* got \[\]$/]],
    [{ thresholds: [0.6, 0.7, NaN] }, [/thresholds .* got \[0\.6, 0\.7, NaN\]$/]],
    [{ thresholds: ['0.6', 0.7, 0.7] }, [/thresholds .* got \["0\.6", 0\.7, 0\.7\]$/]],
    [{ thresholds: [0.6, 0.7, 1.01] }, [/thresholds .* 1\.01\]$/]],
    [{ thresholds: [-0.01, 0.7, 0.7] }, [/thresholds .* got \[-0\.01, /]],
    [{ thresholds: [0.6, 0.7, 1n] }, [/thresholds .* 1n \(a BigInt\)\]$/]],
    [{ thresholds: '0.6,0.7,0.7' }, [/thresholds .* got "0\.6,0\.7,0\.7"$/]],
    [{ thresholds: new Float64Array([0.6, 0.7, 0.7]) }, [/thresholds .* got a Float64Array$/]],
    [{ thresholds: { 0: 0.6, 1: 0.7, 2: 0.7, length: 3 } }, [/thresholds .* got an object$/]],
    [{ maxPixels: 0 }, [/maxPixels must be a finite number >= 1, got 0$/]],
    [{ maxPixels: NaN }, [/maxPixels .* got NaN$/]],
    [{ maxPixels: Infinity }, [/maxPixels .* got Infinity$/]], // no unbounded mode: see the pyramid checks
    [{ maxPixels: '1e6' }, [/maxPixels .* got "1e6"$/]],
  ];
  for (const [options, patterns] of cases) {
    const label = `options ${String(typeof options === 'bigint' ? options : JSON.stringify(options, (_k, v) => (typeof v === 'bigint' ? `${v}n` : Number.isNaN(v) ? 'NaN' : v)))}`;
    refused(label, () => detector.detect(img, options as object), 'BAD_OPTIONS', patterns);
    refused(`${label} (resolveOptions)`, () => resolveOptions(options as object), 'BAD_OPTIONS', patterns);
  }
  // the boundaries that are valid
  for (const options of [{}, undefined, { minsize: 1e300 }, { factor: 1e-9 }, { factor: 0.999 }, { thresholds: [0, 0, 1] as [number, number, number] }, { maxPixels: 1600 }]) {
    assert.equal(detector.detect(gray(40, 40), options), [], JSON.stringify(options));
  }
});

Bad('pyramid: a tiny minsize is refused by maxPixels from the first level, before any scale is computed', () => {
  // 50x50 at minsize 10: scale 1.2, first level 60x60 = 3600 pixels
  refused('first level 60x60 over 3599', () => detector.detect(gray(50, 50), { minsize: 10, maxPixels: 3599 }), 'BAD_OPTIONS', [
    /minsize 10 makes the first pyramid level 60x60, more than maxPixels \(3599\)/,
  ]);
  assert.equal(detector.detect(gray(50, 50), { minsize: 10, maxPixels: 3600 }), []);
  // 12 / minsize overflows to Infinity: computeScales' loop would never end (minl stays Infinity)
  for (const minsize of [Number.MIN_VALUE, 1e-308, 1e-300, 1e-9]) {
    refused(`minsize ${minsize}`, () => detector.detect(gray(50, 50), { minsize }), 'BAD_OPTIONS', [
      new RegExp(`minsize ${String(minsize).replace(/[.+]/g, '\\$&')} makes the first pyramid level`),
      /maxPixels \(67108864\)/,
    ]);
  }
  // no level at all (image below the window) is not refused, however small minsize... is not: 1x1 at minsize 1
  assert.equal(detector.detect(gray(1, 1), { minsize: 1 }), []);
});

Bad(`pyramid: a factor so close to 1 that it makes more than ${MAX_PYRAMID_LEVELS} levels is refused at once`, () => {
  // detect_face()'s level count, written from its loop: minl = min(h, w) * 12 / minsize; while minl >= 12: minl *= factor
  const levels = (side: number, minsize: number, factor: number) => {
    let minl = side * (12 / minsize),
      n = 0;
    while (minl >= 12 && n <= 10 * MAX_PYRAMID_LEVELS) {
      n++;
      minl *= factor;
    }
    return n;
  };
  // the largest factor with exactly MAX_PYRAMID_LEVELS levels on 100x100 at minsize 12
  let lo = 0.9,
    hi = 0.99999;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (levels(100, 12, mid) <= MAX_PYRAMID_LEVELS) lo = mid;
    else hi = mid;
  }
  assert.is(levels(100, 12, lo), MAX_PYRAMID_LEVELS);
  assert.is(levels(100, 12, hi), MAX_PYRAMID_LEVELS + 1);
  const opts = (factor: number) => resolveOptions({ minsize: 12, factor });
  checkPyramid(100, 100, opts(lo)); // accepted
  assert.is(computeScales(100, 100, 12, lo).length, MAX_PYRAMID_LEVELS, 'the count is computeScales\' count');
  refused('one level more', () => checkPyramid(100, 100, opts(hi)), 'BAD_OPTIONS', [
    new RegExp(`factor ${hi} makes more than ${MAX_PYRAMID_LEVELS} pyramid levels \\(image 100x100, minsize 12\\)`),
  ]);
  for (const factor of [0.9999, 1 - 2 ** -53]) {
    refused(`factor ${factor}`, () => detector.detect(gray(100, 100), { factor }), 'BAD_OPTIONS', [/factor .* pyramid levels/]);
  }
  // 0.99 is fine on the largest square the default maxPixels admits (min side 8192, minsize 12)
  assert.ok(levels(8192, 12, 0.99) < MAX_PYRAMID_LEVELS);
});

Bad('detectBatch: images and minsizeRatio are checked, the options the same way as detect()', () => {
  const img = gray(30, 30);
  const ratioCases: [unknown, RegExp][] = [
    [undefined, /minsizeRatio must be a number in \(0, 1\], got undefined/],
    [0, /minsizeRatio .* got 0$/],
    [-0.1, /minsizeRatio .* got -0\.1$/],
    [1.5, /minsizeRatio .* got 1\.5$/],
    [NaN, /minsizeRatio .* got NaN$/],
    ['0.1', /minsizeRatio .* got "0\.1"$/],
  ];
  for (const [minsizeRatio, pattern] of ratioCases) {
    refused(`minsizeRatio ${String(minsizeRatio)}`, () => detector.detectBatch([img], { minsizeRatio } as { minsizeRatio: number }), 'BAD_OPTIONS', [pattern]);
  }
  refused('no options', () => (detector.detectBatch as (i: unknown) => unknown)([img]), 'BAD_OPTIONS', [/minsizeRatio/]);
  refused('images not an array', () => detector.detectBatch(img as unknown as ImageInput[], { minsizeRatio: 0.1 }), 'BAD_IMAGE', [/images must be an array/]);
  refused('a bad image at index 2', () => detector.detectBatch([img, img, { width: 3, height: 3, data: new Uint8Array(5) }], { minsizeRatio: 0.1 }), 'BAD_IMAGE', [
    /^images\[2\]: image\.data has 5 values for 3x3 pixels/,
  ]);
  refused('factor 1', () => detector.detectBatch([img], { minsizeRatio: 0.1, factor: 1 }), 'BAD_OPTIONS', [/factor/]);
  refused('thresholds', () => detector.detectBatch([img], { minsizeRatio: 0.1, thresholds: [2, 0, 0] }), 'BAD_OPTIONS', [/thresholds/]);
  assert.equal(detector.detectBatch([], { minsizeRatio: 0.1 }), []);
  assert.equal(detector.detectBatch([gray(1, 1), img], { minsizeRatio: 1 }), [[], []]);
});

Bad('Detector: weights that are not parseWeights() output -> BAD_WEIGHTS at construction, naming the tensor', () => {
  const make = (w: unknown) => () => new Detector(w as typeof weights);
  refused('undefined', make(undefined), 'BAD_WEIGHTS', [/Detector weights: expected an object \{pnet, rnet, onet\}/, /parseWeights/, /got undefined/]);
  refused('the file bytes', make(new ArrayBuffer(8)), 'BAD_WEIGHTS', [/Detector weights: pnet must be an object of tensors/, /got undefined/]);
  refused('{}', make({}), 'BAD_WEIGHTS', [/pnet must be an object/]);
  const { ['conv4/weights']: _gone, ...rnet } = weights.rnet;
  refused('missing tensor', make({ ...weights, rnet }), 'BAD_WEIGHTS', [/Detector weights, rnet: missing tensor conv4\/weights \(rnet needs shape \[576, 128\]\)/]);
  const shape = { ...weights.onet, 'conv1/biases': { shape: [16], data: new Float32Array(16) } };
  refused('wrong shape', make({ ...weights, onet: shape }), 'BAD_WEIGHTS', [/onet: tensor conv1\/biases has shape \[16\], onet needs \[32\]/]);
  const short = { ...weights.pnet, 'conv1/biases': { shape: [10], data: new Float32Array(9) } };
  refused('short data', make({ ...weights, pnet: short }), 'BAD_WEIGHTS', [/pnet conv1\/biases must be \{shape, data: Float32Array of prod\(shape\) values\}/]);
  const f64 = { ...weights.pnet, 'conv1/biases': { shape: [10], data: new Float64Array(10) } };
  refused('Float64Array data', make({ ...weights, pnet: f64 }), 'BAD_WEIGHTS', [/pnet conv1\/biases must be/]);
  const extra = { ...weights.pnet, 'conv9/weights': weights.pnet['conv1/weights'] };
  refused('extra tensor', make({ ...weights, pnet: extra }), 'BAD_WEIGHTS', [/pnet: unexpected tensor conv9\/weights/]);
});

Bad('a trace hook that is not a function -> BAD_OPTIONS', () => {
  refused('hook 5', () => detector.detectRaw(gray(40, 40), {}, 5 as never), 'BAD_OPTIONS', [/hook must be a function, got 5/]);
});

Bad.run();
