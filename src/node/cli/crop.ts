/**
 * `mtcnn crop`: facenet's dataset alignment job (align_dataset_mtcnn.py), run
 * by src/node/crop-job.ts: face thumbnails of every image of a
 * `<input>/<class>/<image>` dataset into `<output>/<class>/`, plus the
 * bounding boxes file. Resumable, parallel (--jobs) and shardable (--shard).
 *
 * stdout gets the summary; stderr one line per image that failed, and a
 * progress line: redrawn every second on a terminal, otherwise printed every
 * 30 seconds (so a short run, or a test, prints none).
 * @module
 */
import { availableParallelism } from 'node:os';
import { MtcnnError } from '../../errors.ts';
import { runCropJob, type CropProgress, type Shard } from '../crop-job.ts';
import { DETECT_FLAGS, DETECT_FLAGS_HELP, detectOptionsFrom, parseCommandLine, type Command } from './command.ts';

export const cropCommand: Command = {
  name: 'crop',
  summary: "crop and align the faces of a dataset folder (facenet's align_dataset_mtcnn.py)",
  usage: `usage: mtcnn crop <input dir> <output dir> [options]

Face thumbnails for a dataset laid out as <input dir>/<class>/<image>.png, the
job of facenet's align_dataset_mtcnn.py: for each image, the face (the largest,
penalised by its distance from the centre) or with --all-faces every face, its
box grown by margin/2 per side, clipped to the image and resized to
image-size x image-size, written to <output dir>/<class>/<image>.png
(--all-faces: <image>_<i>.png). <output dir>/bounding_boxes.txt gets a line
"<crop path> x1 y1 x2 y2" (the integer margin box) per face and "<path>"
alone per image without a face.

A rerun skips the images already done, so an interrupted run can simply be
started again; nothing is left half-written. PNG files only: other files are
skipped, unreadable ones reported and skipped. Exit code 1 when any image failed.

options:
  --margin N           pixels added around the box, half per side (default 44)
  --image-size N       side of the crops (default 182; 112 with --align)
  --all-faces          every face of each image, not only the main one
  --align              5-point similarity alignment to the 112x112 ArcFace
                       template (scaled to the image size) instead of the
                       margin crop; the margin box is still written
  --jobs N             worker threads (default: the number of cores, ${availableParallelism()} here)
  --shard K/N          process only shard K of N (1 <= K <= N), chosen by a
                       hash of <class>/<file>: N processes with K = 1..N cover
                       the dataset once; shard K writes bounding_boxes_K_of_N.txt
${DETECT_FLAGS_HELP}`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      ...DETECT_FLAGS,
      margin: { type: 'string' },
      'image-size': { type: 'string' },
      'all-faces': { type: 'boolean' },
      align: { type: 'boolean' },
      jobs: { type: 'string' },
      shard: { type: 'string' },
    });
    if (positionals.length !== 2) {
      throw new MtcnnError('BAD_OPTIONS', `expected <input dir> <output dir>, got ${positionals.length} argument(s) (see mtcnn crop --help)`);
    }
    const [input, output] = positionals;
    const shard = values.shard === undefined ? undefined : parseShard(values.shard);
    const progress = progressPrinter();
    const summary = await runCropJob({
      input,
      output,
      margin: values.margin === undefined ? undefined : integer('margin', values.margin, 0),
      imageSize: values['image-size'] === undefined ? undefined : integer('image-size', values['image-size'], 1),
      allFaces: values['all-faces'],
      align: values.align,
      jobs: values.jobs === undefined ? undefined : integer('jobs', values.jobs, 1),
      shard,
      detect: detectOptionsFrom(values),
      weights: values.weights,
      onProgress: progress.print,
      progressIntervalMs: progress.intervalMs,
      onFailure: (f) => {
        progress.clear();
        process.stderr.write(`mtcnn crop: ${f.message}\n`);
      },
    });
    progress.clear();
    const s = summary;
    const where = shard ? ` in shard ${shard.index}/${shard.count}` : '';
    process.stdout.write(
      `${s.images} image${s.images === 1 ? '' : 's'}${where}: ${s.cropped} cropped, ${s.noFace} without a face, ` +
        `${s.alreadyDone} already done, ${s.failures.length} failed; ${s.faces} face${s.faces === 1 ? '' : 's'} written; ` +
        `${s.notPng} other file${s.notPng === 1 ? '' : 's'} skipped\n` +
        `bounding boxes: ${s.boundingBoxes}\n`,
    );
    return s.failures.length > 0 ? 1 : 0;
  },
};

function integer(flag: string, text: string, min: number): number {
  const v = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || v < min) throw new MtcnnError('BAD_OPTIONS', `--${flag} must be an integer >= ${min}, got '${text}'`);
  return v;
}

function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN,
    count = m ? Number(m[2]) : NaN;
  if (!(count >= 1 && index >= 1 && index <= count)) {
    throw new MtcnnError('BAD_OPTIONS', `--shard must be K/N with 1 <= K <= N (e.g. 2/8), got '${text}'`);
  }
  return { index, count };
}

/** "done/total images, faces, rate, time left" on stderr: one redrawn line on a terminal, else a line every 30 s. */
function progressPrinter() {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  return {
    intervalMs: tty ? 1000 : 30_000,
    print(p: CropProgress) {
      const line =
        `mtcnn crop: ${p.done}/${p.total} images, ${p.faces} faces, ${p.rate.toFixed(1)} images/s, ` +
        `${formatDuration(p.etaMs)} left`;
      process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
      shown = tty;
    },
    /** Removes a redrawn line before other output. */
    clear() {
      if (shown) process.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
