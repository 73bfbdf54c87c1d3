/**
 * Exports facenet's MTCNN weights (det1.npy, det2.npy, det3.npy from
 * davidsandberg/facenet src/align) to mtcnn-ts's single weights file,
 * weights/mtcnn.bin (format: src/weights/format.ts, weights/README.md).
 *
 * Run by `npm install` (the `prepare` script, with --if-available, so an
 * install without the source files still succeeds) and by hand with
 * `npm run weights`. `tsx weights/export.ts --help` lists the options.
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { MtcnnError } from '../src/errors.ts';
import { DEFAULT_WEIGHTS_PATH } from '../src/node/weights.ts';
import { serializeWeights } from '../src/weights/format.ts';
import type { MtcnnWeights, NetWeights, WeightsMeta } from '../src/weights/format.ts';
import { SCHEMA, checkAgainstSchema, tensorKey } from '../src/weights/schema.ts';
import { readFacenetNpy } from './unpickle.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the project's reference material keeps facenet's files, beside the repository. */
export const DEFAULT_SOURCE_DIR = join(REPO_ROOT, '..', 'shared', 'mtcnn', 'weights');
export const SOURCE_DIR_ENV = 'MTCNN_WEIGHTS_DIR';
/** det1.npy, det2.npy, det3.npy. */
export const SOURCE_FILES = SCHEMA.map((spec) => spec.source);

/** sha256 of the files facenet ships (as in weights/README.md); others are exported with a warning. */
const FACENET_SHA256: Record<string, string> = {
  'det1.npy': '3285cf7a3de2651c5784cb9e32013f5919aae95fd1ed1bc371dd9691affb39af',
  'det2.npy': '716b8b83e42476791c9096f14dbb09fefc88bf5c7ec876b1683f9acd52b3f39c',
  'det3.npy': '396ead803d85d3443307ff8f45fb6aed2536579b415a4f4d4cb8f93ea6b1476a',
};

const USAGE = `Usage: tsx weights/export.ts [--from DIR] [--out FILE] [--if-available]

Exports facenet's MTCNN weights (det1.npy, det2.npy, det3.npy) to one file
that mtcnn-ts loads. Skips the work when FILE is already up to date.

  --from DIR       folder holding det1.npy, det2.npy, det3.npy
                   (default: $${SOURCE_DIR_ENV}, else ../shared/mtcnn/weights
                   beside the repository)
  --out FILE       output file (default: weights/mtcnn.bin in this package)
  --if-available   when the source files are missing, print a note and exit 0
                   (used by \`npm install\`)
  --help           this text`;

export interface ExportOptions {
  /** Source folder; overrides the environment. */
  from?: string;
  out?: string;
  /** The environment to read MTCNN_WEIGHTS_DIR from (process.env by default). */
  env?: Record<string, string | undefined>;
}

export interface ExportResult {
  status: 'written' | 'up-to-date' | 'not-found';
  /** What happened, for the user: one line, or the download instructions when not found. */
  message: string;
  /** Lines to print besides the message, such as a source that differs from facenet's. */
  warnings: string[];
  out: string;
}

/** The source folder and how it was chosen: --from, then $MTCNN_WEIGHTS_DIR, then the default. */
export function sourceDir(
  from: string | undefined,
  env: Record<string, string | undefined>,
): { dir: string; how: string } {
  if (from) return { dir: resolve(from), how: '--from' };
  const fromEnv = env[SOURCE_DIR_ENV];
  if (fromEnv) return { dir: resolve(fromEnv), how: `$${SOURCE_DIR_ENV}` };
  return { dir: DEFAULT_SOURCE_DIR, how: 'the default location' };
}

/** What to download and where to put it. */
export function notFoundMessage(dir: string, how: string, missing: string[]): string {
  const raw = 'https://github.com/davidsandberg/facenet/raw/master/src/align';
  return [
    `mtcnn-ts weights: ${missing.join(', ')} not found in ${dir} (${how}).`,
    `Download facenet's MTCNN weights, det1.npy, det2.npy and det3.npy, from`,
    `github.com/davidsandberg/facenet, folder src/align:`,
    ...SOURCE_FILES.map((f) => `  ${raw}/${f}`),
    `then put them in ${DEFAULT_SOURCE_DIR}, or export from their folder with`,
    `  npm run weights -- --from /path/to/folder`,
    `  ${SOURCE_DIR_ENV}=/path/to/folder npm run weights`,
  ].join('\n');
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Reads det1..3.npy from `dir` into mtcnn-ts weights, checked against
 * schema.ts, with each file's sha256 as provenance.
 * @throws MtcnnError('BAD_NPY' | 'BAD_WEIGHTS') naming the file and the problem.
 */
export function readFacenetWeights(dir: string): { weights: MtcnnWeights; meta: WeightsMeta } {
  const weights = { pnet: {}, rnet: {}, onet: {} } as MtcnnWeights;
  const meta: WeightsMeta = { sources: {} };
  for (const spec of SCHEMA) {
    const path = join(dir, spec.source);
    const bytes = readFileSync(path);
    const tensors = readFacenetNpy(bytes, path);
    const shapes = new Map<string, number[]>();
    for (const [key, t] of tensors) shapes.set(key, t.shape);
    checkAgainstSchema(spec, shapes, path);
    const net: NetWeights = {};
    for (const t of spec.tensors) {
      const key = tensorKey(t.layer, t.param);
      net[key] = tensors.get(key)!;
    }
    weights[spec.net] = net;
    meta.sources[spec.source] = sha256Hex(bytes);
  }
  return { weights, meta };
}

/** True when `out` holds exactly `bytes`. */
function sameFile(out: string, bytes: Uint8Array): boolean {
  return existsSync(out) && Buffer.compare(readFileSync(out), bytes) === 0;
}

/** Exports (or finds the output up to date) without printing or exiting; the CLI and tests call it. */
export function exportWeights(opts: ExportOptions = {}): ExportResult {
  const out = resolve(opts.out ?? DEFAULT_WEIGHTS_PATH);
  const { dir, how } = sourceDir(opts.from, opts.env ?? process.env);
  const missing = SOURCE_FILES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    return { status: 'not-found', message: notFoundMessage(dir, how, missing), warnings: [], out };
  }

  const { weights, meta } = readFacenetWeights(dir);
  const warnings = SOURCE_FILES.filter((f) => meta.sources[f] !== FACENET_SHA256[f]).map(
    (f) => `warning: ${join(dir, f)} is not facenet's ${f} (its sha256 is ${meta.sources[f]})`,
  );
  // Up to date = the file already holds these exact bytes: same source digests
  // (recorded in the header) and same export. Exporting takes milliseconds, so
  // comparing the result also catches a corrupted file or a changed exporter.
  const bytes = serializeWeights(weights, meta);
  if (sameFile(out, bytes)) {
    const message = `${out} is up to date (sources in ${dir} unchanged)`;
    return { status: 'up-to-date', message, warnings, out };
  }
  mkdirSync(dirname(out), { recursive: true });
  // Write then rename, so a reader never sees half a file.
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { force: true }); // gone after a rename; a leftover after a failed write
  }
  const count = SCHEMA.reduce((n, spec) => n + spec.tensors.length, 0);
  const message = `wrote ${out} (${count} tensors, ${bytes.length} bytes) from ${dir}`;
  return { status: 'written', message, warnings, out };
}

/** What main() prints; `isError` text belongs on stderr. */
export type Print = (text: string, isError: boolean) => void;

/** The command line; returns the exit status. */
export function main(
  argv: string[],
  env: Record<string, string | undefined>,
  print: Print,
): number {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        from: { type: 'string' },
        out: { type: 'string' },
        'if-available': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    print(`${(e as Error).message}\n\n${USAGE}`, true);
    return 1;
  }
  if (args.help) {
    print(USAGE, false);
    return 0;
  }
  try {
    const result = exportWeights({ from: args.from, out: args.out, env });
    for (const w of result.warnings) print(w, true);
    if (result.status !== 'not-found') {
      print(result.message, false);
      return 0;
    }
    if (args['if-available']) {
      const note = 'Skipped for now (--if-available); the tests and loadWeightsFile() need the export.';
      print(`${result.message}\n${note}`, true);
      return 0;
    }
    print(result.message, true);
    return 1;
  } catch (e) {
    if (!(e instanceof MtcnnError)) throw e;
    print(`mtcnn-ts weights: export failed: ${e.message}`, true);
    return 1;
  }
}

// Run as a script (tsx weights/export.ts), not imported by the tests.
const script = process.argv[1];
if (script !== undefined && import.meta.url === pathToFileURL(resolve(script)).href) {
  process.exitCode = main(process.argv.slice(2), process.env, (text, isError) =>
    isError ? console.error(text) : console.log(text),
  );
}
