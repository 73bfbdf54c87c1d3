/**
 * Peak memory of detection on a large photo: an 8-megapixel image (default
 * 3264x2448) made in memory from a shared photo, by nearest-neighbour
 * upscaling (default; a few large faces) or by tiling it (--mode tile: many
 * faces, so stages 2 and 3 get work too). Prints the resident set before and
 * at its peak (the OS's maxRSS), and the largest heap + typed-array memory
 * seen at the pipeline's steps (sampled through the trace hook), per run.
 *
 *   node --expose-gc --import tsx bench/memory.ts [--photo bbt1] [--mode upscale|tile]
 *        [--width 3264] [--height 2448] [--runs 2] [--minsize 20]
 *
 * Stage 1 runs P-Net on one pyramid level at a time and keeps only that
 * level's candidate boxes, so the peak follows the first (largest) level,
 * not the sum of the levels. Results in docs/hardening.md.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Detector, type RgbImage } from '../src/index.ts';
import { computeScales, levelSize } from '../src/pipeline/pyramid.ts';
import { readPng } from '../src/node/png.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import { getGc } from './lib.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = resolve(process.env.MTCNN_DATA ?? join(ROOT, '..', 'shared', 'mtcnn'));

function args(argv: string[]) {
  const out = { photo: 'bbt1', mode: 'upscale', width: 3264, height: 2448, runs: 2, minsize: 20 };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--photo') out.photo = v;
    else if (k === '--mode' && (v === 'upscale' || v === 'tile')) out.mode = v;
    else if (k === '--width') out.width = Number(v);
    else if (k === '--height') out.height = Number(v);
    else if (k === '--runs') out.runs = Number(v);
    else if (k === '--minsize') out.minsize = Number(v);
    else throw new Error(`unknown or bad argument ${k} ${v ?? ''}`);
  }
  return out;
}

/** The photo resized to w x h: nearest neighbour ('upscale') or repeated ('tile'). */
function makeImage(src: RgbImage, w: number, h: number, mode: string): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const sy = mode === 'tile' ? y % src.height : Math.min(src.height - 1, Math.floor((y * src.height) / h));
    for (let x = 0; x < w; x++) {
      const sx = mode === 'tile' ? x % src.width : Math.min(src.width - 1, Math.floor((x * src.width) / w));
      data.set(src.data.subarray((sy * src.width + sx) * 3, (sy * src.width + sx) * 3 + 3), (y * w + x) * 3);
    }
  }
  return { width: w, height: h, data };
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
const maxRss = () => process.resourceUsage().maxRSS * 1024;

const o = args(process.argv.slice(2));
const gc = getGc();
const detector = new Detector(loadWeightsFile());
const path = existsSync(o.photo) ? o.photo : join(DATA, 'images', `${o.photo}.png`);
const src = readPng(path);
const img = makeImage(src, o.width, o.height, o.mode);
const scales = computeScales(img.height, img.width, o.minsize, 0.709);
const [h0, w0] = levelSize(img.height, img.width, scales[0]);
const levelPixels = scales.reduce((n, s) => {
  const [hs, ws] = levelSize(img.height, img.width, s);
  return n + hs * ws;
}, 0);
console.log(
  `memory: ${o.photo} ${src.width}x${src.height} -> ${o.mode} ${img.width}x${img.height} ` +
    `(${((img.width * img.height) / 1e6).toFixed(1)} MP), minsize ${o.minsize}: ${scales.length} levels, ` +
    `first ${w0}x${h0} (${(w0 * h0 / 1e6).toFixed(2)} MP), all levels ${(levelPixels / 1e6).toFixed(2)} MP; node ${process.version}`,
);
gc();
gc();
const base = process.memoryUsage();
console.log(`before: rss ${mib(base.rss)} (peak so far ${mib(maxRss())}), heapUsed ${mib(base.heapUsed)}, arrayBuffers ${mib(base.arrayBuffers)}`);

for (let run = 1; run <= o.runs; run++) {
  let peakJs = 0,
    peakAt = '';
  const crops: string[] = []; // candidates cropped for R-Net (stage1-merge pad) and O-Net (stage3 pad)
  const hook = (c: { fn: string; stage: string; arrays: Record<string, { shape: number[] }> }) => {
    if (c.fn === 'pad') crops.push(`${c.arrays.tmpw.shape[0]} for ${c.stage === 'stage3' ? 'O-Net' : 'R-Net'}`);
    const m = process.memoryUsage();
    const js = m.heapUsed + m.arrayBuffers;
    if (js > peakJs) {
      peakJs = js;
      peakAt = `${c.stage} ${c.fn}`;
    }
  };
  const t0 = performance.now();
  const faces = detector.detectRaw(img, { minsize: o.minsize }, hook).boxes.rows;
  const ms = performance.now() - t0;
  const after = process.memoryUsage();
  console.log(
    `run ${run}: ${faces} faces in ${(ms / 1000).toFixed(1)} s (crops: ${crops.join(', ')}); peak rss ${mib(maxRss())} (+${mib(maxRss() - base.rss)} over before), ` +
      `largest heapUsed + arrayBuffers at a step ${mib(peakJs)} (at ${peakAt}); rss after ${mib(after.rss)}`,
  );
  gc();
  gc();
}
const end = process.memoryUsage();
console.log(`after gc: rss ${mib(end.rss)}, heapUsed ${mib(end.heapUsed)}, arrayBuffers ${mib(end.arrayBuffers)}`);
