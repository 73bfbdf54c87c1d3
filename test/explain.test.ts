/**
 * Explain mode on a small shared photo (hopkins1, 250x250): the explanation
 * read back from the trace must describe the run the reference made (level
 * sizes and candidate counts from the golden trace.json, which this
 * project's code did not write), its faces must be detect()'s, and its
 * paragraphs must carry this run's numbers. Then the CLI: `mtcnn explain`
 * writes index.html and decodable PNGs of the expected sizes, and
 * `mtcnn detect --draw` writes a picture that differs from the photo along
 * the face's box. Files go under os.tmpdir() and are removed.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector } from '../src/detect.ts';
import { MAX_CROPS, buildExplanation } from '../src/explain.ts';
import { main } from '../src/node/cli.ts';
import { readPng } from '../src/node/png.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import { REPO_ROOT, dataPath, readJson } from './helpers/data.ts';

const Explain = suite('explain');
const NAME = 'hopkins1';
const photoPath = dataPath('images', `${NAME}.png`);
const golden = readJson('golden', NAME, 'trace.json');
const detector = new Detector(loadWeightsFile());
const photo = readPng(photoPath);
const explanation = buildExplanation(photo, detector.explain(photo), {});

interface GoldenCall {
  fn: string;
  stage: string;
  arrays: Record<string, { shape: number[] }>;
}
const calls: GoldenCall[] = golden.calls;
/** Rows of array `key` in the golden calls with this fn and stage, in order. */
const goldenRows = (fn: string, stage: string, key: string) =>
  calls.filter((c) => c.fn === fn && c.stage === stage).map((c) => c.arrays[key].shape[0]);
const only = (rows: number[]) => {
  assert.is(rows.length, 1);
  return rows[0];
};

Explain('one level per scale, with the golden pyramid sizes and map sizes', () => {
  const levels = explanation.levels;
  assert.is(levels.length, golden.scales.length);
  const imaps = calls.filter((c) => c.fn === 'generateBoundingBox').map((c) => c.arrays.imap.shape);
  levels.forEach((l, i) => {
    const [hs, ws] = golden.pyramid_sizes[i];
    assert.equal([l.height, l.width], [hs, ws], `level ${i} size`);
    assert.is(l.scale, golden.scales[i], `level ${i} scale`);
    assert.is(l.image.data.length, hs * ws * 3);
    assert.equal([l.prob.height, l.prob.width], imaps[i], `level ${i} P-Net map`);
    assert.is(l.prob.data.length, imaps[i][0] * imaps[i][1]);
  });
});

Explain('candidate counts equal the reference arrays at every step', () => {
  const e = explanation;
  assert.equal(e.levels.map((l) => l.candidates.rows), goldenRows('generateBoundingBox', 'stage1', 'boundingbox'));
  assert.equal(e.levels.map((l) => l.kept.rows), goldenRows('nms', 'stage1', 'pick'));
  assert.is(e.stage1.merged.rows, only(goldenRows('nms', 'stage1-merge', 'pick')));
  assert.is(e.stage1.boxes.rows, only(goldenRows('pad', 'stage1-merge', 'total_boxes')));
  assert.is(e.stage2.crops.count, only(goldenRows('rnet', 'stage2', 'in')));
  assert.is(e.stage2.crops.scores.length, e.stage2.crops.count);
  assert.is(e.stage2.crops.images.length, Math.min(MAX_CROPS, e.stage2.crops.count));
  assert.ok(e.stage2.crops.images.every((c) => c.width === 24 && c.height === 24 && c.data.length === 24 * 24 * 3));
  assert.is(e.stage2.passed.rows, only(goldenRows('nms', 'stage2', 'boxes')));
  assert.is(e.stage2.boxes.rows, only(goldenRows('rerec', 'stage2', 'out')));
  assert.is(e.stage3.crops.count, only(goldenRows('onet', 'stage3', 'in')));
  assert.ok(e.stage3.crops.images.every((c) => c.width === 48 && c.height === 48));
  assert.is(e.stage3.passed.rows, only(goldenRows('bbreg', 'stage3', 'out')));
  assert.is(e.stage3.boxes.rows, golden.final_boxes.length);
});

Explain("the final faces are detect()'s, and the last nms's boxes are theirs", () => {
  const faces = detector.detect(photo);
  assert.equal(explanation.faces, faces);
  const b = explanation.stage3.boxes;
  assert.is(b.rows, faces.length);
  faces.forEach((f, i) => assert.equal(Array.from(b.data.subarray(i * 5, i * 5 + 5)), [...f.box, f.score]));
});

Explain('the walkthrough: steps in order, this run\'s numbers, the magic numbers, real files', () => {
  const steps = explanation.steps;
  assert.equal(
    steps.map((s) => s.id),
    ['photo', 'pyramid', 'normalize', 'pnet', 'nms-level', 'merge', 'rnet-crops', 'rnet', 'onet-crops', 'onet', 'faces'],
  );
  const text = (id: string) => steps.find((s) => s.id === id)!.text;
  const [hs, ws] = golden.pyramid_sizes[0];
  assert.match(text('pyramid'), `gives ${golden.scales.length} levels, the first ${ws}x${hs}`);
  const stage1Kept = goldenRows('nms', 'stage1', 'pick').reduce((s, n) => s + n, 0);
  assert.match(text('nms-level'), `stage 1 keeps ${stage1Kept} windows`);
  assert.match(text('rnet'), `${only(goldenRows('nms', 'stage2', 'boxes'))} of ${only(goldenRows('rnet', 'stage2', 'in'))}`);
  assert.match(text('faces'), `returns ${golden.final_boxes.length} face`);
  const magic: [string, string[]][] = [
    ['pyramid', ['12/minsize', '0.709', 'ceil(', 'INTER_AREA']],
    ['normalize', ['127.5', '0.0078125', 'W x H']],
    ['pnet', ['stride', '12', 'fix(', '>= 0.6']],
    ['nms-level', ['0.5', 'x2-x1+1']],
    ['merge', ['0.7', 'rerec', 'fix']],
    ['rnet-crops', ['pad', '1-based', 'zero', '24x24']],
    ['rnet', ['> 0.7', 'bbreg', 'x2 - x1 + 1']],
    ['onet', ['> 0.7', 'w*p + x1 - 1', "'Min'"]],
  ];
  for (const [id, words] of magic) for (const w of words) assert.ok(text(id).includes(w), `step ${id} should mention ${w}`);
  for (const s of steps) {
    assert.ok(s.files.length > 0, `${s.id} names no file`);
    for (const f of s.files) assert.ok(existsSync(join(REPO_ROOT, f)), `${s.id} names ${f}, which does not exist`);
  }
  const names = steps.flatMap((s) => s.pictures.map((p) => p.name));
  assert.is(new Set(names).size, names.length, 'picture names are unique');
});

Explain('a run that stops early ends with the faces step and says why', () => {
  const tooSmall = buildExplanation(photo, detector.explain(photo, { minsize: 1000 }), { minsize: 1000 });
  assert.equal(tooSmall.steps.map((s) => s.id), ['photo', 'pyramid', 'faces']);
  assert.is(tooSmall.levels.length, 0);
  const strict = { thresholds: [0.6, 1, 1] as [number, number, number] };
  const noRnet = buildExplanation(photo, detector.explain(photo, strict), strict);
  assert.is(noRnet.steps[noRnet.steps.length - 1].id, 'faces');
  assert.match(noRnet.steps[noRnet.steps.length - 1].text, 'returns 0 faces: no window passed R-Net, so it stops there');
  assert.is(noRnet.stage2.crops.count, explanation.stage2.crops.count);
  assert.is(noRnet.stage2.boxes.rows, 0);
});

/** Runs the CLI in-process; returns its exit code and what it printed. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '',
    err = '';
  const write = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), out, err };
  } finally {
    [process.stdout.write, process.stderr.write] = write;
  }
}

Explain('mtcnn explain writes index.html and the PNGs it links, with the expected sizes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mtcnn-explain-'));
  try {
    const out = join(dir, 'walk'); // created by the command
    const r = await cli(['explain', photoPath, '--out', out]);
    assert.is(r.code, 0, r.err);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    const links = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]);
    const pngs = readdirSync(out).filter((f) => f.endsWith('.png')).sort();
    assert.equal([...links].sort(), pngs, 'every picture linked once, none missing');
    assert.is(links.length, explanation.steps.reduce((s, st) => s + st.pictures.length, 0));
    assert.ok(links.every((l) => !l.includes('/')), 'links are relative, beside the page');
    const ids = [...html.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(ids, explanation.steps.map((s) => s.id));

    const size = (f: string) => {
      const p = readPng(join(out, f));
      assert.is(p.data.length, p.width * p.height * 3);
      return [p.width, p.height];
    };
    for (const f of pngs) size(f); // all decodable
    assert.equal(size('photo.png'), [golden.width, golden.height]);
    assert.equal(size('faces.png'), [golden.width, golden.height]);
    const [hs, ws] = golden.pyramid_sizes[0];
    assert.equal(size('level-1.png'), [ws, hs]);
    assert.equal(size('pnet-input.png'), [hs, ws]); // transposed
    golden.pyramid_sizes.forEach(([h]: number[], i: number) => assert.is(size(`pnet-${i + 1}.png`)[1], h, `pnet-${i + 1}`));
    assert.equal(readPng(join(out, 'photo.png')).data, photo.data, 'the photo is written unchanged');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Explain('mtcnn explain: usage errors are one line and non-zero', async () => {
  const noOut = await cli(['explain', photoPath]);
  assert.ok(noOut.code !== 0);
  assert.match(noOut.err, '--out');
  assert.is(noOut.err.trim().split('\n').length, 1);
  const two = await cli(['explain', photoPath, photoPath, '--out', tmpdir()]);
  assert.ok(two.code !== 0);
  assert.match(two.err, 'exactly one image');
});

Explain('mtcnn detect --draw writes the photo with the box drawn on it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mtcnn-draw-'));
  try {
    const file = join(dir, 'faces.png');
    const r = await cli(['detect', photoPath, '--json', '--draw', file]);
    assert.is(r.code, 0, r.err);
    assert.is(JSON.parse(r.out).faces.length, golden.final_boxes.length, 'stdout still holds the JSON');
    const drawn = readPng(file);
    assert.equal([drawn.width, drawn.height], [photo.width, photo.height]);
    const changed = (x: number, y: number) => {
      const o = (y * photo.width + x) * 3;
      return drawn.data[o] !== photo.data[o] || drawn.data[o + 1] !== photo.data[o + 1] || drawn.data[o + 2] !== photo.data[o + 2];
    };
    // along the golden box's four edges, every pixel is drawn over
    const [x1, y1, x2, y2] = golden.final_boxes[0].map(Math.round);
    for (let x = x1; x <= x2; x++) assert.ok(changed(x, y1) && changed(x, y2), `edge pixel at x = ${x}`);
    for (let y = y1; y <= y2; y++) assert.ok(changed(x1, y) && changed(x2, y), `edge pixel at y = ${y}`);
    // far from the face, nothing changed
    for (let y = 230; y < 250; y++) for (let x = 0; x < 40; x++) assert.ok(!changed(x, y), `pixel (${x}, ${y}) changed`);

    const twice = await cli(['detect', photoPath, photoPath, '--draw', file]);
    assert.ok(twice.code !== 0);
    assert.match(twice.err, '--draw');
    assert.is(twice.err.trim().split('\n').length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Explain.run();
