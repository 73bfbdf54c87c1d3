/**
 * The dataset alignment job behind `mtcnn crop`: facenet's
 * src/align/align_dataset_mtcnn.py (line numbers of facenet commit 4c33d4d),
 * made resumable, parallel and shardable.
 *
 * What it keeps from the script:
 * - the dataset is `<input>/<class>/<image>`, one output folder per class
 *   (facenet.get_dataset, line 47; lines 70-73), classes in sorted order;
 * - each image's crop is `<output>/<class>/<stem>.png`, or with several
 *   faces wanted `<stem>_<i>.png` (lines 78-79, 126-130);
 * - the face choice, margin box and resize of src/align/crop.ts (lines 98-124);
 * - the bounding boxes file: per written face `<output path> x1 y1 x2 y2`
 *   (the integer margin box, line 132), per image without a face its would-be
 *   output path alone (lines 133-135); an unreadable image is reported and
 *   gets no line (lines 84-86);
 * - an image whose output exists is not done again (line 81).
 *
 * What it changes, and why:
 * - Resume is by record, not by file: an image is skipped when the bounding
 *   boxes file has its lines and every face file they name exists. (The
 *   script tests only `<stem>.png`, so with several faces, or no face, it
 *   redoes the image, and a rerun writes a new bounding boxes file with only
 *   that run's images.) The file is a journal: each image's lines are
 *   appended in one write as soon as its crops are on disk, so a killed run
 *   loses at most the images in flight; the next run reads it back (the
 *   last record of an image wins; after a torn last line the record before
 *   it is dropped too, as the line may have been part of it), and every run
 *   ends by rewriting it whole in dataset order.
 * - Nothing is left half-written: crops and the rewritten bounding boxes
 *   file go to `.<name>.part` beside the target, then are renamed over it.
 *   A crop that already exists is never rewritten.
 * - Parallel: `jobs` worker threads (crop-worker.ts), each with its own
 *   Detector; results are taken in dataset order whatever order they finish in.
 * - Sharded: shard K of N takes the images whose relative path
 *   `<class>/<file>` hashes (FNV-1a, 32 bits, of its UTF-8 bytes) to K - 1
 *   modulo N; no coordinator is needed, and N processes on N machines with the
 *   same inputs split the set exactly. Shard K writes its own
 *   `bounding_boxes_K_of_N.txt`, so shards sharing an output folder never
 *   write the same file; an unsharded run writes `bounding_boxes.txt`. (The
 *   script names its file after a random key and can shuffle its order, so
 *   that several processes may share a dataset, lines 62-63, 68-75.)
 * - The script also stores revision_info.txt (facenet's git state), which
 *   has no counterpart here.
 * - Input: PNG files only (the project's reader); other files are counted
 *   and skipped, as are hidden files (names starting with '.') and
 *   sub-folders of class folders. File order within a class is sorted (the
 *   script takes os.listdir's order). A class folder is created when its
 *   first crop is written (the script creates every one up front).
 *
 * Resuming assumes the same options (margin, size, --all-faces, --align) as
 * the run that wrote the outputs.
 * @module
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startWorker } from './start-worker.ts';
import { DEFAULT_IMAGE_SIZE, DEFAULT_MARGIN, type PixelBox } from '../align/crop.ts';
import { Detector } from '../detect.ts';
import { MtcnnError } from '../errors.ts';
import { resolveOptions } from '../options.ts';
import type { DetectOptions } from '../types.ts';
import { processImage, writeAtomic, type CropResult, type CropSettings, type CropTask, type FaceRecord } from './crop-image.ts';
import { loadWeightsFile } from './weights.ts';

/** Shard `index` (1-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

export interface CropJobOptions {
  /** Dataset folder: one sub-folder per class, images inside. */
  input: string;
  /** Where the class folders of crops and the bounding boxes file go (created if missing). */
  output: string;
  /** Pixels around the box, half per side. Default 44. */
  margin?: number;
  /** Side of the crops. Default 182, or 112 with `align`. */
  imageSize?: number;
  /** Every face, as `<stem>_<i>.png`; otherwise the one pickFace chooses. */
  allFaces?: boolean;
  /** 5-point similarity alignment (alignFace) instead of the margin crop. */
  align?: boolean;
  /** Detection options; the script's are the defaults. */
  detect?: DetectOptions;
  /** Weights file (default: the package's weights/mtcnn.bin). */
  weights?: string;
  /** Worker threads. Default: the number of cores. 1 runs in this thread. */
  jobs?: number;
  shard?: Shard;
  /** Called with the job's progress at most once per `progressIntervalMs`. */
  onProgress?: (p: CropProgress) => void;
  progressIntervalMs?: number;
  /** Called for each image that could not be cropped, as it is found. */
  onFailure?: (failure: CropFailure) => void;
}

export interface CropProgress {
  /** Images finished in this run, and how many this run has to do. */
  done: number;
  total: number;
  /** Face files recorded in this run so far. */
  faces: number;
  elapsedMs: number;
  /** Images per second so far, and the time the rest would take at that rate. */
  rate: number;
  etaMs: number;
}

export interface CropFailure {
  /** `<class>/<file>` in the input folder. */
  file: string;
  /** One line, naming the file. */
  message: string;
}

export interface CropSummary {
  /** PNG files in this shard (all of them when unsharded). */
  images: number;
  /** Skipped: recorded and written by an earlier run. */
  alreadyDone: number;
  /** Done in this run: with at least one face written, and without a face. */
  cropped: number;
  noFace: number;
  /** Face files recorded by this run. */
  faces: number;
  failures: CropFailure[];
  /** Other files in this shard, skipped. */
  notPng: number;
  /** Path of this run's bounding boxes file. */
  boundingBoxes: string;
}

/** A PNG of the dataset. */
interface Entry {
  cls: string;
  file: string;
  stem: string;
  /** `<class>/<file>`, the key for sharding and reports. */
  rel: string;
  /** `<class>/<stem>`, the key of its record in the bounding boxes file. */
  base: string;
}

/**
 * FNV-1a, 32 bits, of the UTF-8 bytes of `text` (offset basis 2166136261,
 * prime 16777619): a simple, well-known hash with the same value on every
 * machine and runtime, which is all the shard split needs.
 */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

/** The 1-based shard of `count` a relative path `<class>/<file>` belongs to. */
export function shardOf(rel: string, count: number): number {
  return (fnv1a32(rel) % count) + 1;
}

/** `bounding_boxes.txt`, or `bounding_boxes_K_of_N.txt` for a shard. */
function boundingBoxesName(shard?: Shard): string {
  return shard ? `bounding_boxes_${shard.index}_of_${shard.count}.txt` : 'bounding_boxes.txt';
}

/** PNGs (sorted by class, then file) and the count of other files, in this shard. */
function listDataset(input: string, output: string, shard: Shard | undefined): { entries: Entry[]; others: number } {
  let classes: string[];
  try {
    classes = readdirSync(input, { withFileTypes: true })
      .filter((d) => isDirectory(join(input, d.name), d))
      .map((d) => d.name)
      .sort();
  } catch {
    throw new MtcnnError('NOT_FOUND', `input folder not found or not readable: ${input}`);
  }
  const outputPath = resolve(output);
  const entries: Entry[] = [];
  let others = 0;
  for (const cls of classes) {
    // An output folder inside the input would otherwise become a class of crops.
    if (resolve(input, cls) === outputPath) continue;
    const dir = join(input, cls);
    for (const d of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (isDirectory(join(dir, d.name), d)) continue;
      const rel = `${cls}/${d.name}`;
      if (shard && shardOf(rel, shard.count) !== shard.index) continue;
      if (d.name.startsWith('.') || !d.name.toLowerCase().endsWith('.png')) {
        others++;
        continue;
      }
      const stem = d.name.slice(0, -4);
      entries.push({ cls, file: d.name, stem, rel, base: `${cls}/${stem}` });
    }
  }
  return { entries, others };
}

function isDirectory(path: string, d: { isDirectory(): boolean; isSymbolicLink(): boolean }): boolean {
  if (!d.isSymbolicLink()) return d.isDirectory();
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // a dangling link: counted as a file, then skipped as not PNG or failed
  }
}

/** An image's lines in the bounding boxes file (lines 132 and 135 of the script). */
function recordLines(output: string, e: Entry, faces: FaceRecord[]): string {
  if (faces.length === 0) return `${join(output, e.cls, `${e.stem}.png`)}\n`;
  return faces.map((f) => `${join(output, e.cls, f.file)} ${f.box.join(' ')}\n`).join('');
}

/**
 * Reads a bounding boxes file back into records keyed by `<class>/<stem>`.
 * Lines are keyed by their last two path components, so a different spelling
 * of the output folder does not matter. Consecutive lines of one image form
 * its record; a later record of the same image replaces an earlier one. A
 * file that does not end in a newline was cut during a write: the torn line
 * is ignored and the record before it dropped, since it may lack lines.
 */
function parseBoundingBoxes(text: string, allFaces: boolean): Map<string, FaceRecord[]> {
  const records = new Map<string, FaceRecord[]>();
  const lines = text.split('\n');
  const torn = lines.pop() !== ''; // text after the last newline
  let last = '';
  for (const line of lines) {
    const parsed = parseLine(line, allFaces);
    if (parsed === null) continue;
    const { base, face } = parsed;
    if (base !== last) records.set(base, []); // a new record: replaces any earlier one of this image
    if (face) records.get(base)!.push(face);
    last = base;
  }
  if (torn && last !== '') records.delete(last);
  return records;
}

function parseLine(line: string, allFaces: boolean): { base: string; face: FaceRecord | null } | null {
  const tokens = line.split(' ');
  const numbers = tokens.slice(-4);
  const hasBox = tokens.length >= 5 && numbers.every((t) => /^-?\d+$/.test(t));
  const path = hasBox ? tokens.slice(0, -4).join(' ') : line;
  const parts = path.split(/[\\/]/);
  if (parts.length < 2 || !path.endsWith('.png')) return null;
  const file = parts[parts.length - 1];
  const cls = parts[parts.length - 2];
  if (!hasBox) return { base: `${cls}/${file.slice(0, -4)}`, face: null };
  // With --all-faces the face files are <stem>_<i>.png.
  const stem = allFaces ? /^(.*)_\d+\.png$/.exec(file)?.[1] : file.slice(0, -4);
  if (stem === undefined) return null;
  return { base: `${cls}/${stem}`, face: { file, box: numbers.map(Number) as PixelBox } };
}

/** The bounding boxes file for `entries` in their order: the lines of each one recorded. */
function renderBoundingBoxes(output: string, entries: Entry[], records: Map<string, FaceRecord[]>): string {
  let text = '';
  for (const e of entries) {
    const faces = records.get(e.base);
    if (faces) text += recordLines(output, e, faces);
  }
  return text;
}

const badOption = (message: string) => new MtcnnError('BAD_OPTIONS', message);

/** Options checked, defaults filled in. */
function resolveJob(o: CropJobOptions) {
  const margin = o.margin ?? DEFAULT_MARGIN;
  if (!(Number.isFinite(margin) && margin >= 0)) throw badOption(`margin must be a number >= 0, got ${margin}`);
  const imageSize = o.imageSize ?? (o.align ? 112 : DEFAULT_IMAGE_SIZE);
  if (!Number.isSafeInteger(imageSize) || imageSize <= 0) throw badOption(`image size must be a positive integer, got ${imageSize}`);
  const jobs = o.jobs ?? availableParallelism();
  if (!Number.isSafeInteger(jobs) || jobs <= 0) throw badOption(`jobs must be a positive integer, got ${jobs}`);
  const shard = o.shard;
  if (shard && !(Number.isSafeInteger(shard.count) && shard.count >= 1 && Number.isSafeInteger(shard.index) && shard.index >= 1 && shard.index <= shard.count)) {
    throw badOption(`shard must be K/N with 1 <= K <= N, got ${shard.index}/${shard.count}`);
  }
  const detect = o.detect ?? {};
  resolveOptions(detect); // bad detection options fail before any file is touched
  const settings: CropSettings = { output: o.output, margin, imageSize, allFaces: !!o.allFaces, align: !!o.align, detect };
  return { settings, jobs, shard };
}

/**
 * Runs the job (see the module comment) and resolves to its summary. Failed
 * images are in the summary and reported through `onFailure`; the promise
 * rejects only on a bad option, a missing input folder or weights file, or an
 * output that cannot be written at all.
 */
export async function runCropJob(options: CropJobOptions): Promise<CropSummary> {
  const { settings, jobs, shard } = resolveJob(options);
  const { output } = settings;
  const weights = loadWeightsFile(options.weights); // checked here, before any worker starts
  const { entries, others } = listDataset(options.input, output, shard);
  mkdirSync(output, { recursive: true });
  const bbPath = join(output, boundingBoxesName(shard));
  const records = existsSync(bbPath) ? parseBoundingBoxes(readFileSync(bbPath, 'utf8'), settings.allFaces) : new Map<string, FaceRecord[]>();

  const summary: CropSummary = { images: entries.length, alreadyDone: 0, cropped: 0, noFace: 0, faces: 0, failures: [], notPng: others, boundingBoxes: bbPath };
  const fail = (failure: CropFailure) => {
    summary.failures.push(failure);
    options.onFailure?.(failure);
  };
  // Two inputs with one output name (a.png and a.PNG): the first, in sorted order, keeps it.
  const owner = new Map<string, string>();
  const todo: Entry[] = [];
  for (const e of entries) {
    const first = owner.get(e.base);
    if (first !== undefined) {
      fail({ file: e.rel, message: `${join(options.input, e.rel)}: its output ${e.base}.png is already ${first}'s` });
      continue;
    }
    owner.set(e.base, e.rel);
    const rec = records.get(e.base);
    if (rec && rec.every((f) => existsSync(join(output, e.cls, f.file)))) summary.alreadyDone++;
    else {
      records.delete(e.base); // stale: will be redone
      todo.push(e);
    }
  }

  // Start from a clean file (a torn last line would glue onto the next append), then journal.
  writeAtomic(bbPath, renderBoundingBoxes(output, entries, records));
  const journal = openSync(bbPath, 'a');
  const started = Date.now();
  const interval = options.progressIntervalMs ?? 1000;
  let lastReport = started;
  let done = 0;
  const take = (i: number, result: CropResult) => {
    const e = todo[i];
    if ('error' in result) fail({ file: e.rel, message: result.error });
    else {
      records.set(e.base, result.faces);
      writeSync(journal, recordLines(output, e, result.faces));
      if (result.faces.length > 0) summary.cropped++;
      else summary.noFace++;
      summary.faces += result.faces.length;
    }
    done++;
    const now = Date.now();
    if (options.onProgress && now - lastReport >= interval) {
      lastReport = now;
      const elapsedMs = now - started;
      const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
      const etaMs = rate > 0 ? ((todo.length - done) / rate) * 1000 : Infinity;
      options.onProgress({ done, total: todo.length, faces: summary.faces, elapsedMs, rate, etaMs });
    }
  };
  try {
    const tasks = todo.map((e): CropTask => ({ path: join(options.input, e.rel), cls: e.cls, stem: e.stem }));
    if (jobs === 1 || tasks.length <= 1) {
      const detector = new Detector(weights);
      tasks.forEach((t, i) => take(i, processImage(detector, t, settings)));
    } else {
      await runWorkers(tasks, settings, options.weights, Math.min(jobs, tasks.length), inOrder(take));
    }
  } finally {
    closeSync(journal);
  }
  writeAtomic(bbPath, renderBoundingBoxes(output, entries, records));
  return summary;
}

/** Wraps `take` so that results arriving in any order are taken in index order. */
function inOrder(take: (i: number, r: CropResult) => void): (i: number, r: CropResult) => void {
  const waiting = new Map<number, CropResult>();
  let next = 0;
  return (i, r) => {
    waiting.set(i, r);
    for (let w = waiting.get(next); w !== undefined; w = waiting.get(next)) {
      waiting.delete(next);
      take(next++, w);
    }
  };
}

/** Crops `tasks` on `count` worker threads, one image per worker at a time. */
function runWorkers(
  tasks: CropTask[],
  settings: CropSettings,
  weights: string | undefined,
  count: number,
  deliver: (i: number, r: CropResult) => void,
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const workers: Worker[] = [];
    let next = 0,
      finished = 0,
      over = false;
    const end = (error?: unknown) => {
      if (over) return;
      over = true;
      for (const w of workers) void w.terminate();
      if (error === undefined) resolvePromise();
      else reject(error);
    };
    const feed = (w: Worker) => {
      if (next < tasks.length) {
        w.postMessage({ index: next, task: tasks[next] });
        next++;
      }
    };
    for (let k = 0; k < count; k++) {
      const w = startWorker('crop-worker', { settings, weights });
      workers.push(w);
      w.on('message', (m: { index: number; result: CropResult }) => {
        try {
          deliver(m.index, m.result);
        } catch (e) {
          return end(e); // the journal could not be written: stop
        }
        if (++finished === tasks.length) end();
        else feed(w);
      });
      w.on('error', (e) => end(e));
      w.on('exit', (code) => end(new Error(`crop worker stopped early (exit code ${code})`)));
      feed(w);
    }
  });
}

