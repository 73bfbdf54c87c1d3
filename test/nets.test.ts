/**
 * P-Net, R-Net and O-Net against the reference's recorded calls: for every
 * `pnet`, `rnet` and `onet` call of golden/<photo>/trace.json whose outputs
 * were kept as .npy, feed the recorded input and compare every output at
 * NET_ABS.
 *
 * P-Net's input is only a digest in the trace, so it is rebuilt as
 * detect_face() builds it from the pyramid level that the `imresample` call
 * just before it kept: (x - 127.5) * 0.0078125 in float64, stored as float32
 * (TF casts at feed), transposed from (hs, ws, 3) to (ws, hs, 3). Its sha256
 * must equal the recorded one, which proves the input bit-identical. Outputs
 * are recorded in that transposed orientation, (1, ws', hs', c), which is
 * what pnet() returns for the transposed input.
 *
 * The largest difference is P-Net's (about 3.6e-6, a probability near 0.54 on
 * `happy`): it is the reference's float32 accumulation, not ours. A float64
 * run of tools/nets_numpy.py on that level agrees with pnet() to 5e-8 there.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MtcnnError } from '../src/errors.ts';
import { onet } from '../src/nets/onet.ts';
import { pnet } from '../src/nets/pnet.ts';
import { rnet } from '../src/nets/rnet.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import { checkClose, sha256 } from './helpers/check.ts';
import { readGoldenNpy, readJson, traceNames } from './helpers/data.ts';
import { NET_ABS } from './tolerances.ts';

/** detect_face()'s input normalisation: (x - 127.5) * 0.0078125, i.e. (x - 127.5) / 128. */
const PIXEL_MEAN = 127.5;
const PIXEL_SCALE = 0.0078125;

interface ArrayRecord {
  dtype: string;
  shape: number[];
  sha256: string;
  file?: string;
}
interface TraceCall {
  fn: string;
  arrays: Record<string, ArrayRecord>;
}
interface Trace {
  full_maps: boolean;
  calls: TraceCall[];
}

type NetName = 'pnet' | 'rnet' | 'onet';

/** Calls checked and the largest difference seen, per net, over all photos. */
const stats: Record<NetName, { calls: number; maxDiff: number }> = {
  pnet: { calls: 0, maxDiff: 0 },
  rnet: { calls: 0, maxDiff: 0 },
  onet: { calls: 0, maxDiff: 0 },
};

const weights = loadWeightsFile();

/** The kept .npy of one recorded array, as float32, after checking its recorded shape. */
function goldenF32(photo: string, rec: ArrayRecord): Float32Array {
  const arr = readGoldenNpy('golden', photo, rec.file!);
  assert.equal(arr.shape, rec.shape, `${rec.file} shape`);
  assert.is(arr.dtype, 'float32', `${rec.file} dtype`);
  return arr.data as Float32Array;
}

/** Compare one output and record the difference. */
function compare(net: NetName, label: string, actual: Float32Array, expected: Float32Array): void {
  const d = checkClose(label, actual, expected, NET_ABS);
  if (d > stats[net].maxDiff) stats[net].maxDiff = d;
}

/** The P-Net input detect_face() feeds for a uint8 level (hs, ws, 3): normalised, as (ws, hs, 3) f32. */
function pnetInput(level: Uint8Array, hs: number, ws: number): Float32Array {
  const out = new Float32Array(hs * ws * 3); // (ws, hs, 3) NHWC f32
  for (let y = 0; y < hs; y++)
    for (let x = 0; x < ws; x++)
      for (let ch = 0; ch < 3; ch++)
        out[(x * hs + y) * 3 + ch] = (level[(y * ws + x) * 3 + ch] - PIXEL_MEAN) * PIXEL_SCALE;
  return out;
}

const hasFiles = (call: TraceCall, names: string[]) => names.every((k) => call.arrays[k]?.file !== undefined);

/** Check every pnet call of a photo whose outputs were kept; returns how many. */
function checkPnet(photo: string, calls: TraceCall[]): number {
  let checked = 0;
  calls.forEach((call, i) => {
    if (call.fn !== 'pnet' || !hasFiles(call, ['out0', 'out1'])) return;
    const label = `${photo} call ${i} pnet`;
    const level = calls[i - 1];
    assert.is(level.fn, 'imresample', `${label}: the call before is not imresample`);
    const levelRec = level.arrays.out;
    assert.ok(levelRec.file, `${label}: pyramid level ${i - 1} not kept`);
    const arr = readGoldenNpy('golden', photo, levelRec.file!);
    const [hs, ws] = arr.shape;
    const input = pnetInput(arr.data as Uint8Array, hs, ws);
    assert.equal(call.arrays.in.shape, [1, ws, hs, 3], `${label}: input shape`);
    assert.is(sha256(input), call.arrays.in.sha256, `${label}: rebuilt input is not the one fed`);

    const out = pnet(weights.pnet, input, ws, hs);
    const reg = goldenF32(photo, call.arrays.out0); // (1, ws', hs', 4)
    const prob = goldenF32(photo, call.arrays.out1); // (1, ws', hs', 2)
    assert.equal([1, out.oh, out.ow, 4], call.arrays.out0.shape, `${label}: output size`);
    compare('pnet', `${label} out0 (reg)`, out.reg, reg);
    compare('pnet', `${label} out1 (prob)`, out.prob, prob);
    checked++;
  });
  return checked;
}

/** Check every rnet / onet call of a photo whose input and outputs were kept; returns how many. */
function checkCrops(photo: string, calls: TraceCall[], net: 'rnet' | 'onet'): number {
  const outs = net === 'rnet' ? ['out0', 'out1'] : ['out0', 'out1', 'out2'];
  let checked = 0;
  calls.forEach((call, i) => {
    if (call.fn !== net || !hasFiles(call, ['in', ...outs])) return;
    const label = `${photo} call ${i} ${net}`;
    const input = goldenF32(photo, call.arrays.in); // (N, 24, 24, 3) or (N, 48, 48, 3)
    const n = call.arrays.in.shape[0];
    if (net === 'rnet') {
      const out = rnet(weights.rnet, input, n);
      compare(net, `${label} out0 (reg)`, out.reg, goldenF32(photo, call.arrays.out0));
      compare(net, `${label} out1 (prob)`, out.prob, goldenF32(photo, call.arrays.out1));
    } else {
      const out = onet(weights.onet, input, n);
      compare(net, `${label} out0 (reg)`, out.reg, goldenF32(photo, call.arrays.out0));
      compare(net, `${label} out1 (landmarks)`, out.landmarks, goldenF32(photo, call.arrays.out1));
      compare(net, `${label} out2 (prob)`, out.prob, goldenF32(photo, call.arrays.out2));
    }
    checked++;
  });
  return checked;
}

const Nets = suite('nets');

// Photos over 800 x 800 (full_maps false) keep neither P-Net maps nor crop
// inputs: their net calls are covered by the pipeline replay only.
const photos = traceNames().filter((photo) => readJson<Trace>('golden', photo, 'trace.json').full_maps);
assert.ok(photos.length > 0, 'no golden trace with full maps');

for (const photo of photos) {
  const trace = readJson<Trace>('golden', photo, 'trace.json');
  for (const net of ['pnet', 'rnet', 'onet'] as const) {
    Nets(`${net}: ${photo}`, () => {
      const checked = net === 'pnet' ? checkPnet(photo, trace.calls) : checkCrops(photo, trace.calls, net);
      stats[net].calls += checked;
      // A photo with full maps keeps every net's input and outputs: finding
      // none means the trace's keys changed and the test would check nothing.
      assert.ok(checked > 0, `${photo}: no ${net} call with kept arrays`);
    });
  }
}

Nets('bad input: pnet below 12 x 12 or with a wrong length, rnet/onet length, missing tensor', () => {
  const throwsCode = (fn: () => unknown, code: string) =>
    assert.throws(fn, (e: unknown) => e instanceof MtcnnError && e.code === code);
  throwsCode(() => pnet(weights.pnet, new Float32Array(11 * 12 * 3), 11, 12), 'BAD_IMAGE');
  throwsCode(() => pnet(weights.pnet, new Float32Array(12 * 12 * 3 - 1), 12, 12), 'BAD_IMAGE');
  throwsCode(() => rnet(weights.rnet, new Float32Array(24 * 24 * 3), 2), 'BAD_IMAGE');
  throwsCode(() => onet(weights.onet, new Float32Array(48 * 48 * 3 + 1), 1), 'BAD_IMAGE');
  const { ['conv3/weights']: _dropped, ...incomplete } = weights.pnet;
  throwsCode(() => pnet(incomplete, new Float32Array(12 * 12 * 3), 12, 12), 'BAD_WEIGHTS');
  // The smallest input gives one cell.
  const one = pnet(weights.pnet, new Float32Array(12 * 12 * 3), 12, 12);
  assert.equal([one.oh, one.ow, one.reg.length, one.prob.length], [1, 1, 4, 2]);
});

Nets.after(() => {
  for (const net of ['pnet', 'rnet', 'onet'] as const) {
    console.log(`  ${net}: ${stats[net].calls} calls checked, largest difference ${stats[net].maxDiff.toExponential(2)}`);
  }
});

Nets.run();
