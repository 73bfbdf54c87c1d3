/**
 * What the benchmarks share: the photos, the machine, medians, and one
 * photo measured with this project's Detector (end to end, per stage, and the
 * nets' GFLOP/s).
 *
 * Timings: wall-clock medians after a warm-up run, plain `detect()` runs for
 * end to end, `detectTimed()` runs for the stages, alternated so both see the
 * same machine. The CPU time of the plain runs is reported beside the wall
 * time: on a shared machine it is the steadier of the two (it leaves out the
 * time other processes held the core, not their cache traffic).
 */
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Detections, Detector } from '../src/detect.ts';
import type { ParallelDetector } from '../src/node/parallel.ts';
import { readPng } from '../src/node/png.ts';
import { STAGES, type Stage, type StageTimings } from '../src/pipeline/timing.ts';
import type { TraceCall } from '../src/pipeline/trace.ts';
import type { RgbImage } from '../src/types.ts';
import type { MtcnnWeights } from '../src/weights/format.ts';
import { onetMacs, pnetMacs, rnetMacs } from './flops.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** The shared photos: $MTCNN_DATA/images, else ../shared/mtcnn/images beside the repository. */
export const PHOTO_DIR = resolve(process.env.MTCNN_DATA ?? join(REPO_ROOT, '..', 'shared', 'mtcnn'), 'images');

export function defaultPhotos(): string[] {
  return readdirSync(PHOTO_DIR)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => join(PHOTO_DIR, f));
}

/** A photo named on the command line: a path, or the name of a shared photo (`bbt1`, `bbt1.png`). */
export function resolvePhoto(arg: string): string {
  if (existsSync(arg)) return resolve(arg);
  const shared = join(PHOTO_DIR, arg.endsWith('.png') ? arg : `${arg}.png`);
  if (existsSync(shared)) return shared;
  throw new Error(`${arg}: no such file, nor a shared photo in ${PHOTO_DIR}`);
}

export interface Photo {
  path: string;
  name: string;
  image: RgbImage;
}

export function loadPhoto(path: string): Photo {
  const png = readPng(path);
  return { path, name: basename(path, '.png'), image: { width: png.width, height: png.height, data: png.data } };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** CPU time of this process (all threads) in milliseconds. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function machine(): string {
  const cpus = os.cpus();
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores; Node ${process.version} (V8 ${process.versions.v8}), ${os.platform()} ${os.arch()}; load average ${load}`;
}

/**
 * How many cores this process can use right now: a fixed busy loop timed in
 * one worker thread, then in `n` at once; n * (time of one) / (time of n).
 * About n on an idle machine, less when other processes hold cores (a
 * shared machine): the ceiling of any multi-threaded speed-up measured then.
 */
export async function probeCores(n = os.availableParallelism()): Promise<number> {
  const code = `require('node:worker_threads').parentPort.on('message', (k) => {
    let s = 0; for (let i = 0; i < k; i++) s = (s + i * i) % 1000003;
    require('node:worker_threads').parentPort.postMessage(s); })`;
  const workers = Array.from({ length: n }, () => new Worker(code, { eval: true }));
  const run = (w: Worker) => new Promise((resolve) => { w.once('message', resolve); w.postMessage(1e8); });
  try {
    await Promise.all(workers.map(run)); // warm-up
    let t0 = performance.now();
    await run(workers[0]);
    const one = performance.now() - t0;
    t0 = performance.now();
    await Promise.all(workers.map(run));
    return (n * one) / (performance.now() - t0);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** What the nets were given on one photo: P-Net inputs (h, w), crop counts. */
export interface NetWork {
  pnetInputs: [number, number][];
  rnetCrops: number;
  onetCrops: number;
}

export function netWork(detector: Detector, image: RgbImage): NetWork {
  const work: NetWork = { pnetInputs: [], rnetCrops: 0, onetCrops: 0 };
  detector.detectRaw(image, undefined, (c: TraceCall) => {
    const shape = c.arrays.in?.shape;
    if (c.fn === 'pnet') work.pnetInputs.push([shape[1], shape[2]]);
    if (c.fn === 'rnet') work.rnetCrops += shape[0];
    if (c.fn === 'onet') work.onetCrops += shape[0];
  });
  return work;
}

/** Multiply-adds of each net on that work. */
export function macsOf(w: MtcnnWeights, work: NetWork): { pnet: number; rnet: number; onet: number } {
  let pnet = 0;
  for (const [h, width] of work.pnetInputs) pnet += pnetMacs(w, h, width);
  return { pnet, rnet: work.rnetCrops * rnetMacs(w), onet: work.onetCrops * onetMacs(w) };
}

export interface PhotoResult {
  photo: Photo;
  faces: number;
  /** Wall-clock and CPU medians of plain detect(), ms. */
  wallMs: number;
  cpuMs: number;
  stages: Record<Stage, number>;
  work: NetWork;
  macs: { pnet: number; rnet: number; onet: number };
  /** Wall-clock median of ParallelDetector.detect(), ms, when one was given. */
  parallelMs?: number;
}

/**
 * One photo: a warm-up, then `runs` rounds of a plain detection, a timed one
 * and, with `parallel`, one on the ParallelDetector (whose faces must be the same).
 */
export async function benchPhoto(detector: Detector, photo: Photo, runs: number, parallel?: ParallelDetector): Promise<PhotoResult> {
  const faces = detector.detect(photo.image); // warm-up
  if (parallel !== undefined && JSON.stringify(await parallel.detect(photo.image)) !== JSON.stringify(faces)) {
    throw new Error(`${photo.name}: ParallelDetector found other faces than Detector`);
  }
  const wall: number[] = [], cpu: number[] = [], par: number[] = [];
  const timed: StageTimings[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = cpuMs(), t0 = performance.now();
    detector.detect(photo.image);
    wall.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
    timed.push(detector.detectTimed(photo.image).timings);
    if (parallel !== undefined) {
      const t1 = performance.now();
      await parallel.detect(photo.image);
      par.push(performance.now() - t1);
    }
  }
  const stages = {} as Record<Stage, number>;
  for (const s of STAGES) stages[s] = median(timed.map((t) => t[s]));
  const work = netWork(detector, photo.image);
  const result: PhotoResult = { photo, faces: faces.length, wallMs: median(wall), cpuMs: median(cpu), stages, work, macs: macsOf(detector.weights, work) };
  if (parallel !== undefined) result.parallelMs = median(par);
  return result;
}

/** GFLOP/s of `macs` multiply-adds in `ms` milliseconds (2 FLOP each). */
export const gflops = (macs: number, ms: number) => (ms > 0 ? (2 * macs) / ms / 1e6 : 0);

/** Right-aligned table with a header row. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** global.gc, exposed at run time when node was started without --expose-gc (soak, memory, resources test). */
export function getGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Two detections with the very same bits (Object.is also tells -0 from +0). */
export function sameBits(a: Detections, b: Detections): boolean {
  if (a.boxes.rows !== b.boxes.rows || a.points.length !== b.points.length) return false;
  return a.boxes.data.every((v, i) => Object.is(v, b.boxes.data[i])) && a.points.every((v, i) => Object.is(v, b.points[i]));
}
