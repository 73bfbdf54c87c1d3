/**
 * `mtcnn trace` and `mtcnn diff`. The trace folder written for every photo
 * must be the golden one in all but the float noise of the nets: the same
 * files, the same trace.json fields, names, dtypes and shapes, and a
 * call-by-call agreement with the reference's trace (trace-compare.ts). Its
 * .npy files must hold what the pipeline reported, and its digests must be
 * those of the files. `mtcnn diff` is run as a process on the small photo's
 * trace: against itself, against a copy with one P-Net value moved, and
 * against a copy with a call removed.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector } from '../src/detect.ts';
import { readNpy, toNumbers, writeNpy } from '../src/io/npy.ts';
import { compareTraces, type TraceSource } from '../src/io/trace-compare.ts';
import { buildTrace, finalArrays, type CallRecord, type Trace as InMemoryTrace } from '../src/io/trace-format.ts';
import { goldenCalls } from '../src/io/trace-rules.ts';
import { readTraceDir, sha256Hex, tracePhoto, writeTrace } from '../src/node/trace-files.ts';
import { readPng } from '../src/node/png.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import type { TraceCall } from '../src/pipeline/trace.ts';
import { DATA_DIR, REPO_ROOT, dataPath, readJson, traceNames } from './helpers/data.ts';

const Trace = suite('mtcnn trace / mtcnn diff');
const weights = loadWeightsFile();
let tmp = ''; // made before the tests run, removed after them
const goldenDir = (name: string) => join(DATA_DIR, 'golden', name);
const SMALL = 'tiny_face';

/** The CLI as users run it (bin/mtcnn.js runs the sources in a checkout). */
function mtcnn(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'mtcnn.js'), ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const sameBytes = (x: ArrayBufferView, y: ArrayBufferView) => Buffer.compare(bytes(x), bytes(y)) === 0;
const sameValues = (x: ArrayLike<number>, y: ArrayLike<number>) =>
  x.length === y.length && Array.prototype.every.call(x, (v: number, i: number) => Object.is(v, y[i]));

/** Every call record's fields and arrays, as far as they must equal the golden's (values and digests aside). */
function checkJsonLikeGolden(name: string, ours: any, golden: any) {
  assert.equal(Object.keys(ours), Object.keys(golden), `${name}: top-level fields in generate.py's order`);
  for (const k of ['image', 'height', 'width', 'image_digest', 'params', 'full_maps', 'scales', 'pyramid_sizes', 'faces']) {
    assert.equal(ours[k], golden[k], `${name}: ${k}`);
  }
  const shape2 = (l: unknown[]) => [l.length, ...(Array.isArray(l[0]) ? [(l[0] as unknown[]).length] : [])];
  assert.equal(shape2(ours.final_boxes), shape2(golden.final_boxes), `${name}: final_boxes shape`);
  assert.equal(shape2(ours.final_points), shape2(golden.final_points), `${name}: final_points shape`);
  assert.is(ours.calls.length, golden.calls.length, `${name}: number of calls`);
  ours.calls.forEach((c: any, i: number) => {
    const g = golden.calls[i];
    const label = `${name} call ${i} ${g.stage} ${g.fn}`;
    assert.equal(Object.keys(c), Object.keys(g), `${label}: fields in generate.py's order`);
    for (const k of Object.keys(g)) if (k !== 'arrays') assert.equal(c[k], g[k], `${label}: ${k}`);
    assert.equal(Object.keys(c.arrays), Object.keys(g.arrays), `${label}: array names in order`);
    for (const [key, r] of Object.entries<any>(g.arrays)) {
      const o = c.arrays[key];
      assert.equal([o.dtype, o.shape, o.file], [r.dtype, r.shape, r.file], `${label}: ${key} dtype, shape, file`);
    }
  });
}

Trace.before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mtcnn-trace-test-'));
});
Trace.after(() => rmSync(tmp, { recursive: true, force: true }));

for (const name of traceNames()) {
  Trace(`${name}: the written trace is the golden one, call by call`, () => {
    const golden = readJson('golden', name, 'trace.json');
    const dir = join(tmp, name);
    const trace = tracePhoto(dataPath('images', golden.image), weights);
    writeTrace(dir, trace);

    assert.equal(readdirSync(dir).sort(), readdirSync(goldenDir(name)).sort(), `${name}: the same files`);
    const json = JSON.parse(readFileSync(join(dir, 'trace.json'), 'utf8'));
    checkJsonLikeGolden(name, json, golden);

    // every .npy re-reads as written, and the digests are those of its C-order bytes
    for (const [file, a] of trace.files) {
      const back = readNpy(new Uint8Array(readFileSync(join(dir, file))), file);
      assert.is(back.dtype, a.dtype, `${file}: dtype`);
      assert.equal(back.shape, a.shape, `${file}: shape`);
      assert.ok(sameBytes(back.data, a.data), `${file}: bytes`);
    }
    for (const c of json.calls as CallRecord[]) {
      for (const r of Object.values(c.arrays)) {
        if (!r.file) continue;
        const data = readNpy(new Uint8Array(readFileSync(join(dir, r.file)))).data;
        assert.is(sha256Hex(bytes(data)), r.sha256, `${r.file}: sha256`);
      }
    }

    const report = compareTraces(readTraceDir(dir, 'ours'), readTraceDir(goldenDir(name), 'reference'), { sameFiles: true });
    assert.is(report.difference, null, `${name}: ${report.difference?.message}`);
    assert.is(report.steps.length, golden.calls.length + 2, `${name}: header, every call and the final faces compared`);
  });
}

Trace('the files hold what the pipeline reported, digest-only arrays are digests of it', () => {
  for (const name of [SMALL, 'gray_face']) {
    // the folders the tests above wrote; the pipeline is run again here, through the plain hook
    const dir = join(tmp, name);
    const json = JSON.parse(readFileSync(join(dir, 'trace.json'), 'utf8'));
    const calls: TraceCall[] = [];
    const photo = readPng(dataPath('images', json.image));
    const detections = new Detector(weights).detectRaw(photo, {}, goldenCalls((c) => calls.push(c)));
    assert.is(calls.length, json.calls.length, `${name}: calls`);
    calls.forEach((call, i) => {
      for (const [key, a] of Object.entries(call.arrays)) {
        const r = json.calls[i].arrays[key];
        if (r.file) {
          const back = readNpy(new Uint8Array(readFileSync(join(dir, r.file))));
          assert.equal(back.shape, a.shape, `${name} ${r.file}: shape`);
          assert.ok(sameValues(toNumbers(back.data), a.data), `${name} ${r.file}: values`);
        } else {
          assert.is(sha256Hex(bytes(a.data)), r.sha256, `${name} call ${i} ${key}: digest of the reported array`);
        }
      }
    });
    const boxes = readNpy(new Uint8Array(readFileSync(join(dir, 'final_boxes.npy'))));
    const points = readNpy(new Uint8Array(readFileSync(join(dir, 'final_points.npy'))));
    assert.ok(sameValues(boxes.data as Float64Array, detections.boxes.data), `${name}: final_boxes`);
    assert.ok(sameValues(points.data as Float64Array, detections.points), `${name}: final_points`);
  }
});

Trace('no face: final arrays keep the empty shapes detect_face() returns', () => {
  // detect_face.py starts from total_boxes = np.empty((0,9)) and points = np.empty(0);
  // stage 2 rebuilds total_boxes from 4 corners + score (0, 5); stage 3 sets
  // points = out1[:, ipass], (10, 0) when O-Net passes nothing.
  let seed = 1;
  const noise = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const img = { width: 96, height: 96, data: Uint8Array.from({ length: 96 * 96 * 3 }, () => Math.floor(noise() * 256)) };
  const cases: [string, [number, number, number], string, number[], number[], unknown[]][] = [
    ['nothing past P-Net', [0.6, 0.7, 0.7], 'pnet', [0, 9], [0], []],
    ['nothing past R-Net', [0.3, 0.99, 0.7], 'rnet', [0, 5], [0], []],
    ['nothing past O-Net', [0.3, 0, 1], 'onet', [0, 5], [10, 0], Array.from({ length: 10 }, () => [])],
  ];
  for (const [label, thresholds, lastNet, boxShape, pointShape, pointList] of cases) {
    const t = buildTrace(img, 'noise.png', weights, { thresholds, sha256: sha256Hex });
    const nets = t.json.calls.filter((c) => c.fn.endsWith('net')).map((c) => c.fn);
    assert.is(nets[nets.length - 1], lastNet, `${label}: the last net run`);
    assert.is(t.json.faces, 0, label);
    assert.equal(t.files.get('final_boxes.npy')?.shape, boxShape, `${label}: final_boxes shape`);
    assert.equal(t.files.get('final_points.npy')?.shape, pointShape, `${label}: final_points shape`);
    assert.equal(t.json.final_boxes, [], `${label}: final_boxes list`);
    assert.equal(t.json.final_points, pointList, `${label}: final_points list`);
  }
  // the same rule on bare call lists, with a face found: (n, 5) and (10, n)
  const d = { boxes: { rows: 1, cols: 5, data: new Float64Array(5) }, points: new Float64Array(10) };
  const f = finalArrays(d, [{ fn: 'onet' } as CallRecord]);
  assert.equal([f.boxes.shape, f.points.shape], [[1, 5], [10, 1]]);
});

/** A trace held in memory as a comparison side; `drop` names files that cannot be read. */
function memory(label: string, trace: InMemoryTrace, json: unknown = trace.json, drop = ''): TraceSource {
  return {
    label,
    json,
    load(file) {
      const a = trace.files.get(file);
      if (!a || file === drop) throw new Error(`no ${file}`);
      return a;
    },
  };
}

Trace('comparison: structural, digest and header differences are reported, never thrown', () => {
  const trace = tracePhoto(dataPath('images', `${SMALL}.png`), weights);
  const self = compareTraces(memory('A', trace), memory('B', trace));
  assert.is(self.difference, null, 'a trace equals itself');
  assert.ok(self.steps.every((s) => s.status === 'equal'), 'every step bit-equal');

  const edited = (edit: (j: any) => void) => {
    const j = structuredClone(trace.json) as any;
    edit(j);
    return compareTraces(memory('A', trace), memory('B', trace, j)).difference;
  };
  const callOf = (fn: string) => trace.json.calls.findIndex((c) => c.fn === fn);
  const gbb = callOf('generateBoundingBox'),
    pnet = callOf('pnet');

  let d = edited((j) => (j.calls[gbb].scale *= 1 + 1e-15));
  assert.equal([d?.type, d?.step], ['structure', gbb], 'a parameter');
  assert.match(d?.message ?? '', /^parameter scale: A 0\.6, B 0\.6000/);

  d = edited((j) => (j.calls[pnet].arrays.in.sha256 = '0'.repeat(64)));
  assert.equal([d?.type, d?.step, d?.array], ['digest', pnet, 'in'], 'a digest-only array whose values are exact');

  d = edited((j) => (j.calls[gbb].arrays.imap.sha256 = '0'.repeat(64)));
  assert.is(d, null, 'a digest-only net output: not comparable, not a failure');

  d = edited((j) => j.calls[gbb].arrays.boundingbox.shape.reverse());
  assert.equal([d?.type, d?.step, d?.array], ['structure', gbb, 'boundingbox'], 'a shape');

  d = edited((j) => (j.image_digest.sha256 = '0'.repeat(64)));
  assert.equal([d?.type, d?.step], ['structure', 'header'], 'another image');

  d = edited((j) => (j.calls[3].fn = 'resize'));
  assert.equal([d?.type, d?.step], ['structure', 'header'], 'a call that is no helper');
  assert.match(d?.message ?? '', /call 3: fn "resize"/);

  const file = trace.json.calls[pnet].arrays.out1.file as string;
  d = compareTraces(memory('A', trace), memory('B', trace, trace.json, file)).difference;
  assert.equal([d?.type, d?.step, d?.array], ['structure', pnet, 'out1'], 'a file that cannot be read');
  assert.match(d?.message ?? '', /B: cannot read/);
});

Trace('--full keeps every array, and compares with the golden by digest where it keeps more', () => {
  const full = tracePhoto(dataPath('images', `${SMALL}.png`), weights, { full: true });
  for (const c of full.json.calls) for (const [k, r] of Object.entries(c.arrays)) assert.ok(r.file, `${c.fn} ${k} kept`);
  const golden = readTraceDir(goldenDir(SMALL), 'reference');
  assert.is(compareTraces(memory('ours', full), golden).difference, null);
  const strict = compareTraces(memory('ours', full), golden, { sameFiles: true }).difference;
  assert.equal([strict?.type, strict?.array], ['structure', 'in'], 'not the golden keep rules');
});

Trace('mtcnn trace, then mtcnn diff against itself, a moved P-Net value and a removed call', () => {
  const dir = join(tmp, 'cli', SMALL);
  const t = mtcnn('trace', dataPath('images', `${SMALL}.png`), '--out', dir);
  assert.is(t.status, 0, t.stderr);
  assert.match(t.stdout, /^tiny_face\.png: 178x122, 6 scales, 50 calls, 1 faces, 2 tied scores in nms inputs/);

  const same = mtcnn('diff', dir, dir);
  assert.is(same.status, 0, same.stderr);
  const lines = same.stdout.split('\n').filter((l) => /^\s+\d+ /.test(l));
  assert.is(lines.length, 50, 'one line per call');
  assert.ok(lines.every((l) => / equal/.test(l)), 'every call equal');
  assert.match(same.stdout, /equal within tolerance: the header, 50 calls \(50 equal, 0 within tolerance\)/);

  // one P-Net probability moved by 0.25 in a copy, its digest updated as a writer would
  const moved = join(tmp, 'cli', 'moved');
  cpSync(dir, moved, { recursive: true });
  const json = JSON.parse(readFileSync(join(moved, 'trace.json'), 'utf8'));
  const k = json.calls.findIndex((c: any, i: number) => c.fn === 'pnet' && i > 0);
  const rec = json.calls[k].arrays.out1;
  const [, h, w] = rec.shape;
  const at = [0, 3, 7, 1];
  const flat = ((at[0] * h + at[1]) * w + at[2]) * 2 + at[3];
  const arr = readNpy(new Uint8Array(readFileSync(join(moved, rec.file))));
  const before = arr.data[flat] as number;
  arr.data[flat] = before + 0.25;
  writeFileSync(join(moved, rec.file), writeNpy(arr));
  rec.sha256 = sha256Hex(bytes(arr.data));
  writeFileSync(join(moved, 'trace.json'), JSON.stringify(json));

  const diff = mtcnn('diff', dir, moved);
  assert.is(diff.status, 1, diff.stderr);
  assert.match(diff.stdout, new RegExp(`first difference beyond tolerance at call ${k} \\(stage1 pnet\\), array out1:`));
  assert.match(diff.stdout, /out1: 1 of \d+ values differ beyond tolerance/);
  assert.match(diff.stdout, /largest \|diff\| 0\.2\d* at \[0, 3, 7, 1\]/);
  assert.match(diff.stdout, new RegExp(`\\[0, 3, 7, 1\\]: ${before}, ${arr.data[flat]}`));
  assert.match(diff.stdout, /pnet: P-Net/);
  assert.match(diff.stdout, new RegExp(`\\n\\s+${k}\\s+stage1\\s+pnet\\s+DIFFERENT`));
  assert.not.match(diff.stdout, new RegExp(`\\n\\s+${k + 1}\\s+stage1`), 'stops at the first difference');

  // a copy without its first generateBoundingBox call
  const removed = join(tmp, 'cli', 'removed');
  cpSync(dir, removed, { recursive: true });
  const r = JSON.parse(readFileSync(join(removed, 'trace.json'), 'utf8'));
  r.calls.splice(2, 1);
  writeFileSync(join(removed, 'trace.json'), JSON.stringify(r));
  const gone = mtcnn('diff', dir, removed);
  assert.is(gone.status, 1, gone.stderr);
  assert.match(gone.stdout, /first structural difference at call 2:/);
  assert.match(gone.stdout, /A has an extra call 2 \(stage1 generateBoundingBox\); after it the calls line up/);
  assert.match(gone.stdout, /A has 50 calls, B has 49\./);
  assert.is(gone.stderr, '');

  const usage = mtcnn('diff', dir, join(tmp, 'nothing-here'));
  assert.is(usage.status, 2);
  assert.match(usage.stderr, /^mtcnn diff: .*nothing-here: no trace\.json there/);
});

Trace.run();
