/**
 * Soak: one photo detected many times in one process; prints heap, typed-array
 * memory and RSS after warm-up, every 100 runs and at the end, and checks
 * every run gives the bits of the first. Exits 1 if a run differs or the heap
 * or typed-array memory grew by more than --max-growth MiB (default 16).
 *
 *   node --expose-gc --import tsx bench/soak.ts [--runs 500] [--warmup 20] [--photo hopkins1] [--max-growth 16]
 *
 * (Without --expose-gc it exposes gc itself through node:v8.) The photo is
 * a name in the shared images folder ($MTCNN_DATA or ../shared/mtcnn) or a
 * path to a PNG. The short version runs in the test suite
 * (test/resources.test.ts); results in docs/hardening.md.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Detector } from '../src/index.ts';
import { readPng } from '../src/node/png.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import { getGc, sameBits } from './lib.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = resolve(process.env.MTCNN_DATA ?? join(ROOT, '..', 'shared', 'mtcnn'));

function args(argv: string[]) {
  const out = { runs: 500, warmup: 20, photo: 'hopkins1', maxGrowth: 16 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--runs') (out.runs = Number(v)), i++;
    else if (argv[i] === '--warmup') (out.warmup = Number(v)), i++;
    else if (argv[i] === '--photo') (out.photo = v), i++;
    else if (argv[i] === '--max-growth') (out.maxGrowth = Number(v)), i++;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!(Number.isInteger(out.runs) && out.runs > 0 && Number.isInteger(out.warmup) && out.warmup >= 0)) {
    throw new Error('--runs and --warmup take whole numbers');
  }
  return out;
}

function photoPath(name: string): string {
  if (existsSync(name)) return name;
  return join(DATA, 'images', name.endsWith('.png') ? name : `${name}.png`);
}

const mib = (n: number) => (n / 2 ** 20).toFixed(2);

function snapshot(label: string, gc: () => void) {
  gc();
  gc();
  const m = process.memoryUsage();
  const maxRss = process.resourceUsage().maxRSS * 1024;
  console.log(
    `${label.padEnd(16)} heapUsed ${mib(m.heapUsed).padStart(7)} MiB  arrayBuffers ${mib(m.arrayBuffers).padStart(7)} MiB  ` +
      `rss ${mib(m.rss).padStart(8)} MiB  peak rss ${mib(maxRss).padStart(8)} MiB`,
  );
  return m;
}

const opts = args(process.argv.slice(2));
const gc = getGc();
const detector = new Detector(loadWeightsFile());
const photo = readPng(photoPath(opts.photo));
console.log(`soak: ${opts.photo} (${photo.width}x${photo.height}), ${opts.warmup} warm-up + ${opts.runs} runs, node ${process.version}`);

const first = detector.detectRaw(photo);
for (let i = 1; i < opts.warmup; i++) detector.detectRaw(photo);
const start = snapshot('after warm-up', gc);
const t0 = performance.now();
let differ = 0;
for (let i = 1; i <= opts.runs; i++) {
  if (!sameBits(detector.detectRaw(photo), first)) differ++;
  if (i % 100 === 0 && i < opts.runs) snapshot(`after ${i}`, gc);
}
const seconds = (performance.now() - t0) / 1000;
const end = snapshot(`after ${opts.runs}`, gc);
const heap = end.heapUsed - start.heapUsed,
  buffers = end.arrayBuffers - start.arrayBuffers;
console.log(
  `${opts.runs} runs in ${seconds.toFixed(1)} s (${((seconds * 1000) / opts.runs).toFixed(0)} ms each), ${first.boxes.rows} face(s); ` +
    `growth: heap ${mib(heap)} MiB, typed arrays ${mib(buffers)} MiB, rss ${mib(end.rss - start.rss)} MiB; runs that differ: ${differ}`,
);
if (differ > 0 || heap > opts.maxGrowth * 2 ** 20 || buffers > opts.maxGrowth * 2 ** 20) {
  console.log('FAIL');
  process.exitCode = 1;
}
