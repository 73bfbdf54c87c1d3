/**
 * `npm run bench -- [--json] [--runs N] [--workers N] [photos...]`: this
 * project's detection speed on each photo (default: every PNG of the shared
 * photos), end to end and per stage, with the nets' GFLOP/s, and beside it
 * ParallelDetector's with N worker threads (default: one per core; 0 leaves
 * it out; not in --json). See lib.ts for how the numbers are taken,
 * bench/RESULTS.md for results and the peers.
 *
 * --json prints exactly one object:
 *   {"results": [{"image": PATH, "median_ms": N, "faces": N,
 *                 "stages": {"pyramid": N, "pnet": N, "nms": N, "crops": N, "rnet": N, "onet": N}}]}
 * with wall-clock medians in milliseconds.
 */
import { availableParallelism } from 'node:os';
import { Detector } from '../src/detect.ts';
import { ParallelDetector } from '../src/node/parallel.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import { STAGES } from '../src/pipeline/timing.ts';
import { benchPhoto, defaultPhotos, resolvePhoto, gflops, loadPhoto, machine, probeCores, table, type PhotoResult } from './lib.ts';

function parseArgs(argv: string[]) {
  let json = false, runs = 5, workers: number | undefined;
  const photos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') json = true;
    else if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--workers') workers = Number(argv[++i]);
    else photos.push(resolvePhoto(argv[i]));
  }
  if (!(Number.isInteger(runs) && runs > 0)) throw new Error('--runs takes a positive integer');
  workers ??= json ? 0 : availableParallelism();
  if (!(Number.isInteger(workers) && workers >= 0)) throw new Error('--workers takes an integer >= 0');
  return { json, runs, workers, photos: photos.length > 0 ? photos : defaultPhotos() };
}

const ms = (x: number) => x.toFixed(x < 10 ? 1 : 0);

function report(results: PhotoResult[], runs: number, workers: number, cores: string): string {
  const rows = results.map((r) => {
    const netsMs = r.stages.pnet + r.stages.rnet + r.stages.onet;
    const netsMacs = r.macs.pnet + r.macs.rnet + r.macs.onet;
    return [
      r.photo.name,
      `${r.photo.image.width}x${r.photo.image.height}`,
      String(r.faces),
      ms(r.wallMs),
      ms(r.cpuMs),
      ...STAGES.map((s) => ms(r.stages[s])),
      `${r.work.pnetInputs.length}/${r.work.rnetCrops}/${r.work.onetCrops}`,
      gflops(r.macs.pnet, r.stages.pnet).toFixed(2),
      gflops(netsMacs, netsMs).toFixed(2),
      (2 * netsMacs / 1e9).toFixed(2),
      ...(workers > 0 ? [ms(r.parallelMs!), `${(r.wallMs / r.parallelMs!).toFixed(2)}x`] : []),
    ];
  });
  const header = ['photo', 'size', 'faces', 'ms', 'cpu ms', ...STAGES, 'levels/r/o', 'P-Net GF/s', 'nets GF/s', 'GFLOP'];
  if (workers > 0) header.push(`${workers} workers ms`, 'speed-up');
  return [
    `mtcnn-ts bench, ${new Date().toISOString()}`,
    machine(),
    `cores free for this process (probe: one busy thread against ${availableParallelism()} at once), before and after: ${cores}`,
    `medians of ${runs} runs after a warm-up; ms = wall clock of detect(), cpu ms = its CPU time; stages from detectTimed()`,
    `levels/r/o = pyramid levels / R-Net crops / O-Net crops; GF/s = GFLOP/s of the nets' conv and fc layers (2 FLOP per multiply-add)`,
    ...(workers > 0 ? [`${workers} workers ms = wall clock of ParallelDetector.detect() in the same rounds (same faces), speed-up = ms / that`] : []),
    '',
    table(header, rows),
  ].join('\n');
}

const { json, runs, workers, photos } = parseArgs(process.argv.slice(2));
const weights = loadWeightsFile();
const detector = new Detector(weights);
const parallel = workers > 0 ? new ParallelDetector(weights, { workers }) : undefined;
const coresBefore = json ? 0 : await probeCores();
const results: PhotoResult[] = [];
for (const path of photos) {
  const r = await benchPhoto(detector, loadPhoto(path), runs, parallel);
  results.push(r);
  if (!json) process.stderr.write(`  ${r.photo.name}: ${ms(r.wallMs)} ms\n`);
}
await parallel?.close();
if (json) {
  const out = results.map((r) => ({ image: r.photo.path, median_ms: r.wallMs, faces: r.faces, stages: r.stages }));
  process.stdout.write(JSON.stringify({ results: out }) + '\n');
} else {
  const cores = `${coresBefore.toFixed(2)} / ${(await probeCores()).toFixed(2)}`;
  process.stdout.write(report(results, runs, workers, cores) + '\n');
}
