/**
 * `npm run bench:browser -- [--runs N] [--workers N] [--isolated] [photos...]`: the
 * detection's speed in a real browser (Debian's Chromium, headless, through
 * playwright-core), on one thread (Detector) and spread over Web Workers
 * (WebParallelDetector, mtcnn-ts/web), in the same page, taking turns.
 * The page loads the compiled package from dist/ (the script builds it
 * first) through demo/serve.ts, decodes each shared photo itself, and checks
 * that both detectors find the same faces before timing them.
 * Default: the shared photos, 5 rounds after a warm-up, workers = the
 * page's navigator.hardwareConcurrency. With --isolated the page is
 * cross-origin isolated (demo/serve.ts), so the workers get the image in a
 * SharedArrayBuffer instead of a copy per job.
 */
import { basename, dirname } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../demo/serve.ts';
import { defaultPhotos, machine, median, probeCores, resolvePhoto, table } from './lib.ts';

const CHROMIUM = '/usr/bin/chromium';

function parseArgs(argv: string[]) {
  let runs = 5, workers = 0, isolated = false;
  const photos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--workers') workers = Number(argv[++i]);
    else if (argv[i] === '--isolated') isolated = true;
    else photos.push(resolvePhoto(argv[i]));
  }
  if (!(Number.isInteger(runs) && runs > 0)) throw new Error('--runs takes a positive integer');
  if (!(Number.isInteger(workers) && workers >= 0)) throw new Error('--workers takes an integer >= 0 (0: one per core)');
  return { runs, workers, isolated, photos: photos.length > 0 ? photos : defaultPhotos() };
}

interface PageTimes {
  width: number;
  height: number;
  faces: number;
  workers: number;
  same: boolean;
  isolated: boolean;
  one: number[];
  spread: number[];
}

const { runs, workers, isolated, photos } = parseArgs(process.argv.slice(2));
const before = await probeCores();
// The page fetches the photos from the demo server, which serves one folder.
const photosDir = dirname(photos[0]);
if (photos.some((p) => dirname(p) !== photosDir)) throw new Error('bench:browser: give photos from one folder');
const server = await startServer({ port: 0, photosDir, isolated });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const rows: string[][] = [];
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}demo/`);
  for (const path of photos) {
    const name = basename(path);
    // Runs in the page. (No named functions in here: tsx would wrap them in a helper the page lacks.)
    const t: PageTimes = await page.evaluate(
      async ({ name, runs, workers }) => {
        const g = globalThis as any;
        const { Detector, parseWeights } = await import('/dist/index.js' as string);
        const { WebParallelDetector } = await import('/dist/web.js' as string);
        g.__benchWeights ??= parseWeights(await (await fetch('/weights/mtcnn.bin')).arrayBuffer());
        const detector = new Detector(g.__benchWeights);
        g.__benchSpread ??= new WebParallelDetector(g.__benchWeights, workers > 0 ? { workers } : {});
        const spread = g.__benchSpread;
        const blob = await (await fetch(`/photos/${name}`)).blob();
        const bitmap = await g.createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
        const canvas = new g.OffscreenCanvas(bitmap.width, bitmap.height);
        const ctx = canvas.getContext('2d', { willReadFrequently: true });
        ctx.drawImage(bitmap, 0, 0);
        const image = ctx.getImageData(0, 0, bitmap.width, bitmap.height, { colorSpace: 'srgb' });
        const faces = detector.detect(image); // warm-up, both
        const same = JSON.stringify(await spread.detect(image)) === JSON.stringify(faces);
        const one: number[] = [], spreadMs: number[] = [];
        for (let r = 0; r < runs; r++) {
          let t0 = performance.now();
          detector.detect(image);
          one.push(performance.now() - t0);
          t0 = performance.now();
          await spread.detect(image);
          spreadMs.push(performance.now() - t0);
        }
        return { width: image.width, height: image.height, faces: faces.length, workers: spread.workers, same, isolated: g.crossOriginIsolated === true, one, spread: spreadMs };
      },
      { name, runs, workers },
    );
    if (!t.same) throw new Error(`${name}: WebParallelDetector found other faces than Detector in the page`);
    if (t.isolated !== isolated) throw new Error(`the page is${t.isolated ? '' : ' not'} cross-origin isolated`);
    const one = median(t.one), spread = median(t.spread);
    rows.push([name.replace(/\.png$/, ''), `${t.width}x${t.height}`, String(t.faces), one.toFixed(0), spread.toFixed(0), `${(one / spread).toFixed(2)}x`, String(t.workers)]);
    process.stderr.write(`  ${name}: ${one.toFixed(0)} ms / ${spread.toFixed(0)} ms\n`);
  }
  const after = await probeCores();
  console.log(
    [
      `mtcnn-ts bench:browser, ${new Date().toISOString()}`,
      `${machine()}; Chromium ${browser.version()} (headless)`,
      `cores free for this process (probe: one busy thread against 2 at once), before and after: ${before.toFixed(2)} / ${after.toFixed(2)}`,
      `medians of ${runs} rounds after a warm-up, wall clock in the page; one thread = Detector.detect(ImageData), workers = WebParallelDetector.detect (same faces checked)`,
      `the image goes to the workers ${isolated ? 'in a SharedArrayBuffer (cross-origin isolated page)' : 'as a copy per job (page not cross-origin isolated)'}`,
      '',
      table(['photo', 'size', 'faces', 'one thread ms', 'workers ms', 'speed-up', 'workers'], rows),
    ].join('\n'),
  );
} finally {
  await browser.close();
  await server.close();
}
