/**
 * The core in a real browser: Debian's Chromium, headless, driven through
 * playwright-core, loads the demo page (demo/, over the compiled dist/) from
 * demo/serve.ts, which detects faces in a shared photo in the page. The page's
 * faces must equal, bit for bit, what Node's Detector finds on the same photo:
 * same code, same IEEE arithmetic. To make that a fair comparison the pixels
 * the page detected on are first checked against readPng's, byte for byte,
 * so a browser that decodes differently (colour management) is named as such.
 *
 * dist/ is rebuilt first when it is missing or older than src/. Without
 * /usr/bin/chromium the test says so on stderr and skips only itself
 * (.ci/run installs Debian's chromium where apt-get can).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer, type DemoServer } from '../demo/serve.ts';
import { Detector } from '../src/detect.ts';
import { decodePng, readPng, type PngImage } from '../src/node/png.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import type { Face } from '../src/types.ts';
import { checkEqual } from './helpers/check.ts';
import { REPO_ROOT, dataPath } from './helpers/data.ts';

const CHROMIUM = '/usr/bin/chromium';
/** One face, and several; both small enough to keep the test to seconds. */
const PHOTOS = ['hopkins1', 'bbt3'];
/** demo/demo.js's drawing colours. */
const BOX_RGB = [0, 255, 0];
const LANDMARK_RGB = [255, 0, 255];

/** The newest modification time of the files under dir, recursively. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Runs `tsc -p tsconfig.build.json` when dist/ is missing or older than its sources. */
function ensureDist(): void {
  const stamp = join(REPO_ROOT, 'dist', 'index.js');
  const inputs = Math.max(
    newestMtime(join(REPO_ROOT, 'src')),
    statSync(join(REPO_ROOT, 'tsconfig.build.json')).mtimeMs,
    statSync(join(REPO_ROOT, 'tsconfig.json')).mtimeMs,
  );
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= inputs) return;
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'pipe' });
  } catch (e) {
    const out = (e as { stdout?: Buffer }).stdout?.toString() ?? String(e);
    throw new Error(`npm run build (tsc -p tsconfig.build.json) failed:\n${out}`);
  }
}

interface PageResult {
  source: string;
  width: number;
  height: number;
  workers: number;
  isolated: boolean;
  faces: Face[];
  timings: { label: string; ms: number }[];
  error?: string;
}

/** Everything about a face as numbers, in a fixed order: box, score, landmarks. */
const flatten = (faces: Face[]) =>
  faces.flatMap((f) => [...f.box, f.score, ...Object.values(f.landmarks).flat()]);

/** The pixels the page detected on, as RGB bytes (alpha dropped, as the detector does). */
async function pagePixels(page: Page): Promise<Uint8Array> {
  // Runs in the page (the DOM's globals are not in this project's types).
  const base64 = await page.evaluate(() => {
    const { data } = (globalThis as any).__mtcnnImage as { data: Uint8ClampedArray };
    let text = '';
    for (let i = 0; i < data.length; i += 4) text += String.fromCharCode(data[i], data[i + 1], data[i + 2]);
    return btoa(text);
  });
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

const near = (img: PngImage, x: number, y: number, rgb: number[], tol = 48) =>
  x >= 0 && y >= 0 && x < img.width && y < img.height &&
  rgb.every((v, c) => Math.abs(img.data[(y * img.width + x) * 3 + c] - v) <= tol);

/**
 * What the drawing must show on the screenshot of the canvas: each box's
 * bottom edge (clear of the score label) and each landmark in their colours,
 * where the photo itself has neither colour. Returns the problems found.
 */
function checkDrawing(shot: PngImage, photo: PngImage, faces: Face[]): string[] {
  const problems: string[] = [];
  const s = shot.width / photo.width;
  faces.forEach((face, i) => {
    const y = Math.round(face.box[3] * s);
    for (let k = 3; k <= 7; k++) {
      const x = Math.round((face.box[0] + (k / 10) * face.width) * s);
      let seen = false;
      for (let dy = -2; dy <= 2 && !seen; dy++) seen = near(shot, x, y + dy, BOX_RGB);
      if (!seen) problems.push(`face ${i + 1}: no box colour at the bottom edge near (${x}, ${y})`);
      const px = Math.round(x / s), py = Math.round(face.box[3]);
      if (near(photo, px, py, BOX_RGB)) problems.push(`face ${i + 1}: the photo itself is box-coloured at (${px}, ${py})`);
    }
    for (const [name, [lx, ly]] of Object.entries(face.landmarks)) {
      const x = Math.round(lx * s), y = Math.round(ly * s);
      if (!near(shot, x, y, LANDMARK_RGB)) problems.push(`face ${i + 1}: no landmark dot at ${name} (${x}, ${y})`);
      if (near(photo, Math.round(lx), Math.round(ly), LANDMARK_RGB)) problems.push(`face ${i + 1}: the photo is landmark-coloured at ${name}`);
    }
  });
  return problems;
}

/** One raw request: the path goes out exactly as given (fetch would normalise `..` first). */
function get(base: string, path: string, method = 'GET'): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(base), { path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

// The demo server needs no browser, so it is tested everywhere.
const server = suite('demo-server');

server('serves the page, the weights and the photos, read-only, and nothing outside them', async () => {
  const s = await startServer({ port: 0 });
  try {
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(s.url, '/demo/');
    assert.is(page.status, 200);
    assert.match(page.type, 'text/html');
    assert.match(page.body.toString(), 'demo.js');
    assert.is((await get(s.url, '/')).status, 302);
    const photo = await get(s.url, '/photos/hopkins1.png');
    assert.is(photo.status, 200);
    assert.is(photo.type, 'image/png');
    assert.ok(photo.body.equals(readFileSync(dataPath('images', 'hopkins1.png'))), 'the photo, byte for byte');
    assert.ok(JSON.parse((await get(s.url, '/photos/index.json')).body.toString()).includes('hopkins1.png'));
    assert.is((await get(s.url, '/weights/mtcnn.bin', 'HEAD')).status, 200);
    assert.is((await get(s.url, '/demo/index.html', 'POST')).status, 405);

    const secret = readFileSync(join(REPO_ROOT, 'package.json'));
    for (const path of [
      '/package.json',
      '/demo/../package.json',
      '/demo/%2e%2e/package.json',
      '/demo/..%2fpackage.json',
      '/dist/..%2F..%2Fpackage.json',
      '/demo/..%5cpackage.json',
      '/demo/%00',
      '/photos/..%2f..%2fmain%2fpackage.json',
      '/photos/../../main/package.json',
      '/weights/export.ts',
    ]) {
      const r = await get(s.url, path);
      assert.ok(r.status === 403 || r.status === 404, `${path}: status ${r.status}`);
      assert.not.ok(r.body.includes(secret.subarray(0, 40)), `${path} leaked package.json`);
    }
  } finally {
    await s.close();
  }
});

server.run();

if (!existsSync(CHROMIUM)) {
  const skipped =
    `\n!!! test/browser.test.ts SKIPPED: ${CHROMIUM} does not exist, so the core was NOT tested in a browser.\n` +
    `!!! Install Debian's chromium (apt-get install -y chromium; .ci/run does it where apt-get is available).\n`;
  console.error(skipped);
  process.once('exit', () => console.error(skipped)); // again below the summary, where it is seen
} else {
  const test = suite('browser');

  let session:
    | Promise<{ server: DemoServer; browser: Browser; page: Page; errors: string[]; detector: Detector }>
    | undefined;
  /** Build, server, browser and Node's detector, made by the first test so a failure there fails that test with its reason. */
  const start = () =>
    (session ??= (async () => {
      ensureDist();
      const detector = new Detector(loadWeightsFile());
      const server = await startServer({ port: 0 });
      let browser: Browser;
      try {
        browser = await chromium.launch({
          executablePath: CHROMIUM,
          // srgb: no display colour conversion, so the screenshot shows the canvas's own values.
          args: ['--headless', '--no-sandbox', '--disable-gpu', '--force-color-profile=srgb'],
        });
      } catch (e) {
        await server.close(); // a listening server would keep the test process alive
        throw e;
      }
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, deviceScaleFactor: 1 });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      return { server, browser, page, errors, detector };
    })());

  /** The demo page on a shared photo, with `workers` Web Workers (0: Detector on the page's thread); its published result. */
  async function detectInPage(page: Page, server: DemoServer, errors: string[], name: string, workers = 0): Promise<PageResult> {
    const url = `${server.url}demo/?image=/photos/${name}.png${workers > 0 ? `&workers=${workers}` : ''}`;
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as any).__mtcnnResult !== undefined, null, { timeout: 60_000 });
    const result: PageResult = await page.evaluate(() => (globalThis as any).__mtcnnResult);
    if (result.error) assert.unreachable(`${url}: the page failed: ${result.error}\n${errors.join('\n')}`);
    return result;
  }

  for (const name of PHOTOS) {
    test(`${name}: the demo page finds Node's faces, bit for bit, and draws them`, async () => {
      const { server, page, errors, detector } = await start();
      const result = await detectInPage(page, server, errors, name);

      const photo = readPng(dataPath('images', `${name}.png`));
      assert.equal([result.width, result.height], [photo.width, photo.height], 'image size');
      const pixels = await pagePixels(page);
      try {
        checkEqual(`${name}: Chromium's RGB vs readPng's`, pixels, photo.data);
      } catch (e) {
        throw new Error(
          `Chromium decoded ${name}.png to other pixels than readPng, so its faces cannot be compared ` +
            `(colour management? the page decodes with colorSpaceConversion 'none'):\n${(e as Error).message}`,
        );
      }

      const expected = detector.detect(photo);
      assert.ok(expected.length >= 1, `Node finds no face in ${name}`);
      assert.is(result.faces.length, expected.length, 'number of faces');
      checkEqual(`${name}: faces (box, score, landmarks)`, flatten(result.faces), flatten(expected));
      assert.equal(result.faces, expected, 'the Face records, every field');

      // What a person sees: the list, the timings, and the drawing.
      assert.is(await page.locator('#faces li').count(), expected.length, 'faces listed');
      const stages = result.timings.filter((t) => /^(stage|candidates)/.test(t.label));
      assert.ok(stages.length >= 4, `the stage timings, got ${JSON.stringify(result.timings)}`);
      assert.ok(result.timings.every((t) => Number.isFinite(t.ms) && t.ms >= 0), 'timings are durations');
      const shot = await page.locator('#view').screenshot();
      const problems = checkDrawing(decodePng(new Uint8Array(shot), 'screenshot'), photo, expected);
      if (problems.length > 0) {
        const file = join(tmpdir(), `mtcnn-browser-${name}.png`);
        writeFileSync(file, shot);
        assert.unreachable(`the drawing on the canvas (screenshot: ${file}):\n  ${problems.join('\n  ')}`);
      }
      assert.equal(errors, [], 'errors in the page');
    });
  }

  // The image goes to the workers as a copy on the demo page, in shared memory on a cross-origin isolated one.
  for (const [name, isolated] of [...PHOTOS.map((p) => [p, false] as const), ['bbt3', true] as const]) {
    test(`${name}: WebParallelDetector (2 Web Workers${isolated ? ', SharedArrayBuffer' : ''}) finds Node's faces, bit for bit`, async () => {
      const { server: plain, page, errors, detector } = await start();
      const server = isolated ? await startServer({ port: 0, isolated: true }) : plain;
      let result: PageResult;
      try {
        result = await detectInPage(page, server, errors, name, 2);
      } finally {
        if (isolated) await server.close();
      }
      assert.is(result.isolated, isolated, 'crossOriginIsolated');
      assert.is(result.workers, 2, 'the page used the workers');
      assert.match(result.timings.map((t) => t.label).join('\n'), '(2 Web Workers)');
      const expected = detector.detect(readPng(dataPath('images', `${name}.png`)));
      assert.is(result.faces.length, expected.length, 'number of faces');
      checkEqual(`${name}: faces (box, score, landmarks)`, flatten(result.faces), flatten(expected));
      assert.equal(result.faces, expected, 'the Face records, every field');
      assert.equal(errors, [], 'errors in the page');
    });
  }

  test("the page's Web Workers box runs the photo again on the workers, with the same faces", async () => {
    const { server, page, errors } = await start();
    const alone = await detectInPage(page, server, errors, 'hopkins1');
    assert.is(alone.workers, 0);
    await page.locator('#workers').check();
    await page.waitForFunction(() => (globalThis as any).__mtcnnResult?.workers > 0, null, { timeout: 60_000 });
    const spread: PageResult = await page.evaluate(() => (globalThis as any).__mtcnnResult);
    assert.is(spread.workers, await page.evaluate(() => (globalThis as any).navigator.hardwareConcurrency), 'one worker per core');
    assert.equal(spread.faces, alone.faces);
    assert.equal(errors, [], 'errors in the page');
  });

  test('WebParallelDetector: a worker that cannot load, bad worker counts and close() are errors, not hangs', async () => {
    const { server, page } = await start();
    await page.goto(`${server.url}demo/`);
    const outcome: Record<string, string> = await page.evaluate(async () => {
      const { WebParallelDetector } = await import('/dist/web.js' as string);
      const { parseWeights } = await import('/dist/index.js' as string);
      const weights = parseWeights(await (await fetch('/weights/mtcnn.bin')).arrayBuffer());
      const image = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
      // (No named functions in here: tsx would wrap them in a helper the page lacks.)
      const out: Record<string, string> = {};
      const missing = new WebParallelDetector(weights, { workers: 2, workerUrl: '/dist/no-such-worker.js' });
      out.missing = await missing.detect(image).then(() => 'resolved', (e: any) => `${e.code}: ${e.message}`);
      out.missingAgain = await missing.detect(image).then(() => 'resolved', (e: any) => `${e.code}: ${e.message}`);
      await missing.close();
      try {
        new WebParallelDetector(weights, { workers: 2, workerUrl: 'https://example.invalid/worker.js' });
        out.otherOrigin = 'accepted';
      } catch (e: any) {
        out.otherOrigin = `${e.code}: ${e.message}`;
      }
      for (const workers of [0, 1.5, 65, '2']) {
        try {
          new WebParallelDetector(weights, { workers });
          out[`workers ${workers}`] = 'accepted';
        } catch (e: any) {
          out[`workers ${workers}`] = `${e.code}: ${e.message}`;
        }
      }
      const closed = new WebParallelDetector(weights, { workers: 1 });
      await closed.close();
      out.closed = await closed.detect(image).then(() => 'resolved', (e: any) => `${e.code}: ${e.message}`);
      return out;
    });
    assert.match(outcome.missing, /^WORKER: WebParallelDetector: a worker failed: .*no-such-worker\.js/);
    assert.is(outcome.missingAgain, outcome.missing, 'later calls fail the same way at once');
    assert.match(outcome.otherOrigin, /^WORKER: WebParallelDetector: cannot start a worker from https:\/\/example\.invalid\/worker\.js: /);
    for (const w of ['0', '1.5', '65', '2']) assert.match(outcome[`workers ${w}`], /^BAD_OPTIONS: .*workers must be an integer from 1 to 64/);
    assert.is(outcome.closed, 'WORKER: WebParallelDetector is closed');
  });

  test.after(async () => {
    if (session === undefined) return;
    const { server, browser } = await session.catch(() => ({ server: undefined, browser: undefined }));
    await browser?.close();
    await server?.close();
  });

  test.run();
}
