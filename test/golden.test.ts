/**
 * The golden replay: detect_face() of this project on every photo of
 * ../shared/mtcnn/golden, its helper calls recorded through the trace hook in
 * the golden format (src/io/trace-format.ts, in memory) and walked call by call
 * against the reference's trace.json by src/io/trace-compare.ts, the engine
 * `mtcnn diff` uses too: the same calls in the same order with the same
 * parameters, every array with the same dtype, shape and kept/digest status,
 * kept arrays equal within the tolerance that applies to them (exact for
 * integers, uint8 images and crops; NET_ABS for net outputs; NET_ABS scaled by
 * the box size downstream of a net), digest-only arrays by sha256 where the
 * values are exact. Then the final boxes and landmarks. (Each helper is also
 * replayed alone on the recorded inputs in its own test file: nets,
 * imresample, boxes, pyramid.)
 *
 * Near-ties. The nets agree with the reference to about 1e-6, not bit for
 * bit, so two candidates whose scores differ by less than that can come out
 * of an nms in the other order (bbt1 has one such pair, 6e-7 apart). That is
 * the only reordering allowed: the same boxes must be picked, and our order,
 * read in the reference's scores, must be descending to within 2 * NET_ABS.
 * From there on arrays indexed by candidate are compared row to matching
 * row, until a later nms restores the reference's order (trace-compare.ts).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compareTraces, formatDifference } from '../src/io/trace-compare.ts';
import { buildTrace } from '../src/io/trace-format.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import { sha256 } from './helpers/check.ts';
import { readGoldenNpy, readJson, traceNames } from './helpers/data.ts';
import { loadPhoto } from './helpers/photos.ts';

const Golden = suite('golden replay');
const weights = loadWeightsFile();

interface Tally {
  calls: number;
  byValue: number;
  byDigest: number;
  maxDiff: number;
}
const tallies = new Map<string, Tally>();
let reorderings = 0;
let cropsNotCompared = 0;
let digestsNotCompared = 0;
const missing = (file: string): never => {
  throw new Error(`our trace has no ${file}`);
};
const tally = (fn: string) => {
  let t = tallies.get(fn);
  if (!t) tallies.set(fn, (t = { calls: 0, byValue: 0, byDigest: 0, maxDiff: 0 }));
  return t;
};

for (const name of traceNames()) {
  Golden(`${name}: every call, in order, then the final faces`, () => {
    const trace = readJson('golden', name, 'trace.json');
    const photo = loadPhoto(trace.image);
    assert.is(sha256(photo.data), trace.image_digest.sha256, 'decoded photo equals the reference image');

    const { minsize, threshold, factor } = trace.params;
    const ours = buildTrace(photo, trace.image, weights, { minsize, thresholds: threshold, factor, sha256 });
    const report = compareTraces(
      { label: 'ours', json: ours.json, load: (file) => ours.files.get(file) ?? missing(file) },
      { label: 'reference', json: trace, load: (file) => readGoldenNpy('golden', name, file) },
      { sameFiles: true },
    );
    if (report.difference) assert.unreachable(`${name}: ${formatDifference(report.difference)}`);

    for (const step of report.steps) {
      if (step.step === 'header') continue;
      const t = tally(step.step === 'final' ? 'final faces' : (step.fn as string));
      t.calls++;
      for (const a of step.arrays) {
        if (a.outcome === 'equal' || a.outcome === 'within') t.byValue++;
        else if (a.outcome === 'digest') t.byDigest++;
        else if (a.outcome === 'reordered' && step.fn === 'imresample') cropsNotCompared++;
        else if (a.outcome === 'reordered') digestsNotCompared++;
        t.maxDiff = Math.max(t.maxDiff, a.maxDiff);
      }
    }
    reorderings += report.reorderings;
  });
}

Golden.after(() => {
  for (const [fn, t] of tallies) {
    console.log(
      `  golden ${fn.padEnd(19)} ${String(t.calls).padStart(4)} calls matched: ` +
        `${t.byValue} arrays by value, ${t.byDigest} by sha256, max |diff| ${t.maxDiff.toExponential(2)}`,
    );
  }
  console.log(`  golden near-tie reorderings explained: ${reorderings}; crops and digests not compared while reordered: ${cropsNotCompared}, ${digestsNotCompared}`);
});

Golden.run();
