/**
 * Trace folders on disk, in the layout of ../shared/mtcnn/golden/<image>/:
 * trace.json beside the `.npy` files it names, final_boxes.npy and
 * final_points.npy. `mtcnn trace` writes one, `mtcnn diff` reads two.
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MtcnnError } from '../errors.ts';
import { readNpy, writeNpy } from '../io/npy.ts';
import type { TraceSource } from '../io/trace-compare.ts';
import { buildTrace, type Trace } from '../io/trace-format.ts';
import type { DetectOptions } from '../types.ts';
import type { MtcnnWeights } from '../weights/format.ts';
import { readPng } from './png.ts';

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Files a trace folder holds: `NNNN_<fn>_<key>.npy`, final_*.npy, trace.json. */
const TRACE_FILE = /^(\d{4}_[A-Za-z]+_[A-Za-z0-9_]+\.npy|final_boxes\.npy|final_points\.npy|trace\.json)$/;

/** The trace of a PNG photo (see buildTrace); `image` in trace.json is the file's base name, as in generate.py. */
export function tracePhoto(path: string, weights: MtcnnWeights, options: DetectOptions & { full?: boolean } = {}): Trace {
  return buildTrace(readPng(path), basename(path), weights, { ...options, sha256: sha256Hex });
}

/**
 * Writes a trace into `dir` (created if needed). Files of an earlier trace in
 * the same folder are removed first, so that no stale .npy is left beside
 * the new trace.json; nothing else in the folder is touched.
 */
export function writeTrace(dir: string, trace: Trace): void {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) if (TRACE_FILE.test(name)) rmSync(join(dir, name));
  for (const [name, array] of trace.files) writeFileSync(join(dir, name), writeNpy(array));
  // indent 1, as generate.py's json.dump(trace, f, indent=1)
  writeFileSync(join(dir, 'trace.json'), JSON.stringify(trace.json, null, 1));
}

/**
 * A trace folder (or its trace.json) as a comparison side. The .npy files are
 * read when the comparison asks for them; a file name that would leave the
 * folder is refused.
 * @throws MtcnnError('NOT_FOUND') when there is no trace.json, ('BAD_NPY') when it is not JSON
 */
export function readTraceDir(path: string, label: string): TraceSource & { dir: string } {
  const dir = existsSync(path) && statSync(path).isFile() ? dirname(path) : path;
  const jsonPath = join(dir, 'trace.json');
  if (!existsSync(jsonPath)) {
    throw new MtcnnError('NOT_FOUND', `${path}: no trace.json there (a folder written by \`mtcnn trace\` or generate.py)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (e) {
    throw new MtcnnError('BAD_NPY', `${jsonPath}: not JSON (${(e as Error).message})`);
  }
  return {
    dir,
    label,
    json,
    load(file: string) {
      if (basename(file) !== file || file === '..') throw new MtcnnError('BAD_NPY', `${file}: not a file name in ${dir}`);
      const p = join(dir, file);
      if (!existsSync(p)) throw new MtcnnError('NOT_FOUND', `${p}: no such file`);
      return readNpy(new Uint8Array(readFileSync(p)), p);
    },
  };
}
