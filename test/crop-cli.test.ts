/**
 * `mtcnn crop` (src/node/crop-job.ts, src/node/cli/crop.ts) on a small
 * dataset built under the system temp folder from the shared photos: two
 * classes, five photos, one corrupt PNG and one text file. Checked: the
 * crops and facenet's bounding_boxes.txt lines, the corrupt file reported
 * and skipped, the real CLI with --jobs 2 against the in-process --jobs 1
 * run, --shard K/3 covering each file once and adding up to the unsharded
 * run, resume after a simulated interruption, and --all-faces / --align.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { alignFace } from '../src/align/align-face.ts';
import { cropFace, pickFace } from '../src/align/crop.ts';
import { Detector } from '../src/detect.ts';
import { MtcnnError } from '../src/errors.ts';
import { fnv1a32, runCropJob, type CropFailure, type CropJobOptions } from '../src/node/crop-job.ts';
import { readPng } from '../src/node/png.ts';
import { encodePng } from '../src/node/png-write.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import { dataPath, REPO_ROOT } from './helpers/data.ts';

const test = suite('mtcnn crop');

const root = mkdtempSync(join(tmpdir(), 'mtcnn-crop-test-'));
const input = join(root, 'dataset');
const PHOTOS: Record<string, string[]> = { alice: ['gray_face', 'hopkins1', 'hopkins2'], bob: ['angry', 'tiny_face'] };
for (const [cls, names] of Object.entries(PHOTOS)) {
  mkdirSync(join(input, cls), { recursive: true });
  for (const n of names) cpSync(dataPath('images', `${n}.png`), join(input, cls, `${n}.png`));
}
// A PNG cut short, and a file that is not a PNG at all.
writeFileSync(join(input, 'bob', 'broken.png'), readFileSync(dataPath('images', 'happy.png')).subarray(0, 500));
writeFileSync(join(input, 'bob', 'notes.txt'), 'not an image\n');

const detector = new Detector(loadWeightsFile());
const clean = join(root, 'clean'); // the in-process, --jobs 1 reference run

const job = (output: string, extra: Partial<CropJobOptions> = {}) => runCropJob({ input, output, imageSize: 160, jobs: 1, ...extra });

/** Every file under dir (hidden ones too), as sorted relative paths. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  walk(dir);
  return out.sort();
}

/** The crops under dir (class folders only), relative path -> bytes. */
const crops = (dir: string) =>
  new Map(listFiles(dir).filter((f) => f.includes('/')).map((f) => [f, readFileSync(join(dir, f))] as const));

function assertSameCrops(actual: string, expected: string, label: string) {
  const a = crops(actual),
    e = crops(expected);
  assert.equal([...a.keys()], [...e.keys()], `${label}: the same files`);
  for (const [f, bytes] of e) assert.ok(a.get(f)!.equals(bytes), `${label}: ${f} differs`);
}

/** A bounding boxes file's lines, the output folder written as <out>. */
const boxLines = (file: string, output: string) =>
  readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(output).join('<out>'));

test('a clean run: one crop per image, facenet bounding boxes lines, the corrupt file reported and skipped', async () => {
  const failures: CropFailure[] = [];
  const s = await job(clean, { onFailure: (f) => failures.push(f) });
  assert.equal(
    { images: s.images, cropped: s.cropped, noFace: s.noFace, alreadyDone: s.alreadyDone, faces: s.faces, notPng: s.notPng },
    { images: 6, cropped: 5, noFace: 0, alreadyDone: 0, faces: 5, notPng: 1 },
  );
  assert.is(failures.length, 1);
  assert.equal(s.failures, failures);
  assert.is(failures[0].file, 'bob/broken.png');
  assert.match(failures[0].message, /broken\.png: truncated/);
  assert.not.match(failures[0].message, /\n/);

  assert.equal(listFiles(clean), [
    'alice/gray_face.png', 'alice/hopkins1.png', 'alice/hopkins2.png', 'bob/angry.png', 'bob/tiny_face.png', 'bounding_boxes.txt',
  ]);
  // Each line: the crop's path and the margin box as the script computes it,
  // restated here: int32(max(x1 - 22, 0)), ..., int32(min(x2 + 22, width)), ...
  const expected: string[] = [];
  for (const [cls, names] of Object.entries(PHOTOS)) {
    for (const n of names) {
      const photo = readPng(join(input, cls, `${n}.png`));
      const faces = detector.detect(photo);
      assert.is(faces.length, 1, `${n}: one face`);
      const [x1, y1, x2, y2] = faces[0].box;
      const box = [Math.max(x1 - 22, 0), Math.max(y1 - 22, 0), Math.min(x2 + 22, photo.width), Math.min(y2 + 22, photo.height)].map(Math.trunc);
      expected.push(`<out>/${cls}/${n}.png ${box.join(' ')}`);
      // The file holds the 160x160 crop, losslessly.
      const written = readPng(join(clean, cls, `${n}.png`));
      assert.is(written.width, 160);
      assert.is(written.height, 160);
      assert.ok(Buffer.from(written.data).equals(cropFace(photo, faces[0], { margin: 44, size: 160 }).image.data), `${n}: pixels`);
    }
  }
  assert.equal(boxLines(join(clean, 'bounding_boxes.txt'), clean), expected);
});

/** The CLI as users run it (bin/mtcnn.js runs the sources in a checkout). */
function cli(args: string[]) {
  return spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'mtcnn.js'), 'crop', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
}

test('the real CLI with --jobs 2 writes the same bytes as --jobs 1 in-process; exit 1 names the failure', () => {
  const out = join(root, 'cli');
  const r = cli([input, out, '--image-size', '160', '--jobs', '2']);
  assert.is(r.status, 1, r.stderr);
  assert.equal(r.stderr.trim().split('\n'), [`mtcnn crop: ${join(input, 'bob', 'broken.png')}: truncated: chunk IDAT at byte 33 needs 8204 bytes, file ends at byte 500`]);
  assert.match(r.stdout, /^6 images: 5 cropped, 0 without a face, 0 already done, 1 failed; 5 faces written; 1 other file skipped\n/);
  assertSameCrops(out, clean, '--jobs 2');
  assert.equal(boxLines(join(out, 'bounding_boxes.txt'), out), boxLines(join(clean, 'bounding_boxes.txt'), clean));
  // Bad options: one line, non-zero, nothing written.
  const bad = cli([input, join(root, 'never'), '--shard', '4/3']);
  assert.is(bad.status, 2);
  assert.is(bad.stderr, "mtcnn crop: --shard must be K/N with 1 <= K <= N (e.g. 2/8), got '4/3'\n");
  assert.not.ok(existsSync(join(root, 'never')));
});

test('FNV-1a, the shard hash, matches its published test vectors', () => {
  assert.is(fnv1a32(''), 0x811c9dc5);
  assert.is(fnv1a32('a'), 0xe40c292c);
  assert.is(fnv1a32('foobar'), 0xbf9cf968);
});

test('--shard K/3: every file in exactly one shard; together they are the unsharded run', async () => {
  const out = join(root, 'sharded'); // one output folder shared by the three shards, as on a cluster
  const summaries = [];
  for (let k = 1; k <= 3; k++) summaries.push(await job(out, { shard: { index: k, count: 3 } }));
  // 6 PNG files, 1 other: each counted by exactly one shard.
  assert.is(summaries.reduce((n, s) => n + s.images, 0), 6);
  assert.is(summaries.reduce((n, s) => n + s.notPng, 0), 1);
  assert.equal(summaries.flatMap((s) => s.failures.map((f) => f.file)), ['bob/broken.png']);
  const lines = summaries.flatMap((s, i) => {
    assert.is(s.boundingBoxes, join(out, `bounding_boxes_${i + 1}_of_3.txt`));
    return boxLines(s.boundingBoxes, out);
  });
  assert.is(new Set(lines).size, lines.length, 'no line in two shards');
  assert.equal([...lines].sort(), boxLines(join(clean, 'bounding_boxes.txt'), clean).sort());
  assert.not.ok(existsSync(join(out, 'bounding_boxes.txt')));
  assertSameCrops(out, clean, 'union of shards');

  // The split depends on <class>/<file> only: the same dataset elsewhere splits the same way.
  const moved = join(root, 'elsewhere', 'data');
  cpSync(input, moved, { recursive: true });
  const again = await runCropJob({ input: moved, output: join(root, 'moved-out'), imageSize: 160, jobs: 1, shard: { index: 2, count: 3 } });
  assert.equal(boxLines(again.boundingBoxes, join(root, 'moved-out')), boxLines(summaries[1].boundingBoxes, out));
});

test('resume: an interrupted run finishes with the same outputs and rewrites none that exist', async () => {
  const out = join(root, 'resumed');
  cpSync(clean, out, { recursive: true });
  // The state a run killed while writing bob/tiny_face.png would leave, and
  // then some: the journal has records up to alice/hopkins2 and half of
  // bob/angry's line (whose crop had been renamed into place); the user has
  // since deleted alice/hopkins2.png; tiny_face's temp file is half-written.
  const bb = join(out, 'bounding_boxes.txt');
  const full = readFileSync(bb, 'utf8').split(clean).join(out); // as a run into `out` writes it
  const cut = full.indexOf(join(out, 'bob', 'angry.png')) + 10;
  writeFileSync(bb, full.slice(0, cut));
  rmSync(join(out, 'alice', 'hopkins2.png'));
  rmSync(join(out, 'bob', 'tiny_face.png'));
  writeFileSync(join(out, 'bob', '.tiny_face.png.part'), 'half a PNG');
  const old = new Date('2001-01-01T00:00:00Z');
  const kept = ['alice/gray_face.png', 'alice/hopkins1.png', 'bob/angry.png'];
  for (const f of kept) utimesSync(join(out, f), old, old);

  const s = await job(out);
  // gray_face and hopkins1 are done; hopkins2 (crop gone), angry (record torn) and tiny_face are redone.
  assert.equal({ alreadyDone: s.alreadyDone, cropped: s.cropped, failed: s.failures.length }, { alreadyDone: 2, cropped: 3, failed: 1 });
  assertSameCrops(out, clean, 'resumed');
  assert.is(readFileSync(bb, 'utf8'), full, 'bounding_boxes.txt as a clean run writes it');
  for (const f of kept) assert.is(statSync(join(out, f)).mtimeMs, old.getTime(), `${f} was rewritten`);
  assert.equal(listFiles(out), listFiles(clean), 'no temp file left');

  // A second rerun has nothing left but the corrupt file.
  const t = await job(out);
  assert.equal({ alreadyDone: t.alreadyDone, cropped: t.cropped, failed: t.failures.length }, { alreadyDone: 5, cropped: 0, failed: 1 });
});

test('--all-faces and --align: <name>_<i>.png per face, template-aligned; an image without a face gets its path alone', async () => {
  const group = join(root, 'group-in');
  mkdirSync(join(group, 'crowd'), { recursive: true });
  cpSync(dataPath('images', 'bbt3.png'), join(group, 'crowd', 'bbt3.png'));
  writeFileSync(join(group, 'crowd', 'blank.png'), encodePng({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(128) }));
  const photo = readPng(join(group, 'crowd', 'bbt3.png'));
  const faces = detector.detect(photo);
  assert.ok(faces.length >= 2, 'bbt3 has several faces');

  const out = join(root, 'group-all');
  const s = await runCropJob({ input: group, output: out, allFaces: true, align: true, jobs: 1 });
  assert.equal({ cropped: s.cropped, noFace: s.noFace, faces: s.faces }, { cropped: 1, noFace: 1, faces: faces.length });
  const lines = boxLines(join(out, 'bounding_boxes.txt'), out);
  assert.is(lines.length, faces.length + 1);
  faces.forEach((f, i) => {
    assert.ok(lines[i].startsWith(`<out>/crowd/bbt3_${i}.png `), lines[i]);
    const written = readPng(join(out, 'crowd', `bbt3_${i}.png`));
    assert.ok(Buffer.from(written.data).equals(alignFace(photo, f, 112).data), `face ${i}: the aligned 112x112 crop`);
  });
  assert.is(lines[faces.length], '<out>/crowd/blank.png');
  // The no-face record counts as done on a rerun.
  const again = await runCropJob({ input: group, output: out, allFaces: true, align: true, jobs: 1 });
  assert.equal({ alreadyDone: again.alreadyDone, cropped: again.cropped, noFace: again.noFace }, { alreadyDone: 2, cropped: 0, noFace: 0 });

  // One face wanted: the one pickFace chooses, cut with the margin.
  const single = join(root, 'group-one');
  await runCropJob({ input: group, output: single, jobs: 1 });
  const chosen = faces[pickFace(faces, photo.width, photo.height)];
  const { image, box } = cropFace(photo, chosen);
  assert.equal(boxLines(join(single, 'bounding_boxes.txt'), single), [`<out>/crowd/bbt3.png ${box.join(' ')}`, '<out>/crowd/blank.png']);
  assert.ok(Buffer.from(readPng(join(single, 'crowd', 'bbt3.png')).data).equals(image.data));
});

test('refuses bad options and a missing input folder before writing anything', async () => {
  const rejects = async (o: Partial<CropJobOptions>, re: RegExp) => {
    try {
      await runCropJob({ input, output: join(root, 'refused'), ...o });
    } catch (e) {
      assert.ok(e instanceof MtcnnError && re.test(e.message), String(e));
      return;
    }
    assert.unreachable(`expected ${re}`);
  };
  await rejects({ input: join(root, 'no-such-folder') }, /input folder not found/);
  await rejects({ jobs: 0 }, /jobs must be a positive integer/);
  await rejects({ imageSize: 1.5 }, /image size/);
  await rejects({ shard: { index: 0, count: 2 } }, /shard must be K\/N/);
  await rejects({ detect: { factor: 2 } }, /factor/);
  assert.not.ok(existsSync(join(root, 'refused')));
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
