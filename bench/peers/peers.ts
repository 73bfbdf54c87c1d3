/**
 * `npm run bench:peers -- [--runs N] [--cpu-runs N] [--workers N] [photos...]`:
 * face-api.js's MTCNN (0.22.2, TensorFlow.js 1.7) on its cpu backend (pure
 * JavaScript) and its wasm backend, beside this project's Detector and
 * ParallelDetector, on the same photos in the same process, and the ratios.
 *
 * One-time setup (this folder has its own package.json and node_modules, so
 * the peers never enter the project's dependencies; nothing is installed by
 * running this):
 *
 *     apt-get install -y libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev
 *     npm_config_nodedir=/usr npm install --prefix bench/peers
 *
 * node-canvas is built from source there (its prebuilt download cannot be
 * reached): face-api's MTCNN only takes a canvas, not a tensor. Its weights,
 * which the npm package does not ship, are read from
 * ../shared/peers/face-api-mtcnn (or $FACE_API_MTCNN). A peer that cannot be
 * loaded is reported as missing, never as a time.
 *
 * Settings, as close to detect_face()'s as face-api allows: minFaceSize 20,
 * scaleFactor 0.709, scoreThresholds [0.6, 0.7, 0.7], and every pyramid level
 * (maxNumScales raised from its default 10 to 100: detect_face has no cap).
 * face-api feeds BGR crops and resizes bilinearly, so its faces differ a little.
 *
 * detect_face.py (numpy nets) and facenet-pytorch cannot run here: their
 * columns are the medians published in ../shared/peers/README.md, measured on
 * this kind of machine but not in this run.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Detector } from '../../src/detect.ts';
import { ParallelDetector } from '../../src/node/parallel.ts';
import { loadWeightsFile } from '../../src/node/weights.ts';
import { defaultPhotos, resolvePhoto, loadPhoto, machine, median, netWork, probeCores, REPO_ROOT, table, type Photo } from '../lib.ts';

/** ../shared/peers/README.md, median ms, minsize 20: [detect_face.py numpy, facenet-pytorch 2 threads (range)]. */
const PUBLISHED: Record<string, { numpy: number; pytorch: [number, number] }> = {
  hopkins1: { numpy: 101, pytorch: [30, 30] },
  bbt2: { numpy: 587, pytorch: [117, 162] },
  bbt1: { numpy: 2233, pytorch: [362, 433] },
  portrait_ks: { numpy: 1181, pytorch: [146, 183] },
};

function parseArgs(argv: string[]) {
  let runs = 5, cpuRuns = 3, workers = availableParallelism();
  const photos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--cpu-runs') cpuRuns = Number(argv[++i]);
    else if (argv[i] === '--workers') workers = Number(argv[++i]);
    else photos.push(resolvePhoto(argv[i]));
  }
  return { runs, cpuRuns, workers, photos: photos.length > 0 ? photos : defaultPhotos() };
}

async function timeAsync(runs: number, f: () => Promise<unknown>): Promise<number> {
  await f(); // warm-up
  const ts: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

/** face-api.js with a canvas per photo, or the reason it cannot run. */
/** face-api's faces and how many crops its R-Net and O-Net scored (its stats). */
interface PeerWork {
  faces: number;
  rnetCrops: number;
  onetCrops: number;
}

async function loadFaceApi(): Promise<{ detect: (backend: string, p: Photo) => Promise<PeerWork>; time: (backend: string, p: Photo, runs: number) => Promise<number> } | string> {
  const req = createRequire(join(REPO_ROOT, 'bench', 'peers', 'package.json'));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let faceapi: any, canvas: any;
  try {
    faceapi = req('face-api.js');
    canvas = req('canvas');
    req('@tensorflow/tfjs-backend-wasm'); // registers the 'wasm' backend with face-api's tfjs-core
  } catch (e) {
    return `not installed (${(e as Error).message.split('\n')[0]}); see the setup in bench/peers/peers.ts`;
  }
  const tf = faceapi.tf;
  faceapi.env.monkeyPatch({ Canvas: canvas.Canvas, Image: canvas.Image, ImageData: canvas.ImageData });
  const { log, warn } = console;
  console.warn = console.log = () => {}; // "mtcnn is deprecated", tfjs's advice to install tfjs-node
  try {
    await tf.setBackend('cpu');
    await faceapi.nets.mtcnn.loadFromDisk(process.env.FACE_API_MTCNN ?? join(REPO_ROOT, '..', 'shared', 'peers', 'face-api-mtcnn'));
  } catch (e) {
    return `cannot load its weights (${(e as Error).message})`;
  } finally {
    Object.assign(console, { log, warn });
  }
  // tfjs-backend-wasm 1.7 fetches its .wasm when fetch exists; without it, it reads the file from disk.
  delete (globalThis as { fetch?: unknown }).fetch;
  const options = new faceapi.MtcnnOptions({ minFaceSize: 20, scaleFactor: 0.709, scoreThresholds: [0.6, 0.7, 0.7], maxNumScales: 100 });
  const canvases = new Map<string, unknown>();
  const canvasOf = (p: Photo) => {
    let c = canvases.get(p.path);
    if (c === undefined) {
      const { width, height, data } = p.image;
      const rgba = new Uint8ClampedArray(width * height * 4);
      for (let i = 0; i < width * height; i++) {
        rgba[4 * i] = data[3 * i];
        rgba[4 * i + 1] = data[3 * i + 1];
        rgba[4 * i + 2] = data[3 * i + 2];
        rgba[4 * i + 3] = 255;
      }
      c = canvas.createCanvas(width, height);
      (c as { getContext(k: string): { putImageData(d: unknown, x: number, y: number): void } }).getContext('2d').putImageData(new canvas.ImageData(rgba, width, height), 0, 0);
      canvases.set(p.path, c);
    }
    return c;
  };
  const use = async (backend: string) => {
    if (tf.getBackend() !== backend && !(await tf.setBackend(backend))) throw new Error(`tfjs backend '${backend}' failed to start`);
    await tf.ready();
  };
  const detect = async (backend: string, p: Photo): Promise<PeerWork> => {
    await use(backend);
    const { results, stats } = await faceapi.nets.mtcnn.forwardWithStats(canvasOf(p), options);
    return { faces: results.length, rnetCrops: stats.stage2_numInputBoxes ?? 0, onetCrops: stats.stage3_numInputBoxes ?? 0 };
  };
  const time = async (backend: string, p: Photo, runs: number) => {
    await use(backend);
    return timeAsync(runs, () => faceapi.nets.mtcnn.forward(canvasOf(p), options));
  };
  return { detect, time };
}

const { runs, cpuRuns, workers, photos } = parseArgs(process.argv.slice(2));
const weights = loadWeightsFile();
const detector = new Detector(weights);
const parallel = workers > 0 ? new ParallelDetector(weights, { workers }) : undefined;
const faceApi = await loadFaceApi();
const backends: [string, string][] = [['wasm', 'face-api wasm'], ['cpu', 'face-api cpu']];
const missing: Record<string, string> = {};

const coresBefore = await probeCores();
const rows: string[][] = [];
const x = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}x` : '-');
const f = (v: number | undefined) => (v === undefined ? 'missing' : v.toFixed(0));
for (const path of photos) {
  const photo = loadPhoto(path);
  const ours = await timeAsync(runs, async () => detector.detect(photo.image));
  const faces = detector.detect(photo.image).length;
  const work = netWork(detector, photo.image);
  const oursParallel = parallel ? await timeAsync(runs, () => parallel.detect(photo.image)) : undefined;
  const peer: Record<string, number | undefined> = {};
  let peerWork: PeerWork | undefined;
  for (const [backend, label] of backends) {
    if (typeof faceApi === 'string') {
      missing[label] = faceApi;
      continue;
    }
    try {
      peerWork = await faceApi.detect(backend, photo);
      peer[backend] = await faceApi.time(backend, photo, backend === 'cpu' ? cpuRuns : runs);
    } catch (e) {
      missing[label] = (e as Error).message;
    }
  }
  const pub = PUBLISHED[photo.name];
  rows.push([
    photo.name,
    `${photo.image.width}x${photo.image.height}`,
    `${faces}/${peerWork?.faces ?? '-'}`,
    `${work.rnetCrops}/${work.onetCrops}`,
    peerWork ? `${peerWork.rnetCrops}/${peerWork.onetCrops}` : '-',
    ours.toFixed(0),
    oursParallel === undefined ? '-' : oursParallel.toFixed(0),
    f(peer.wasm),
    f(peer.cpu),
    x(peer.wasm, ours),
    x(peer.wasm, oursParallel),
    x(peer.cpu, ours),
    x(peer.cpu, oursParallel),
    pub ? String(pub.numpy) : '-',
    pub ? x(pub.numpy, ours) : '-',
    pub ? x(pub.numpy, oursParallel) : '-',
    pub ? `${pub.pytorch[0]}-${pub.pytorch[1]}` : '-',
    pub && oursParallel !== undefined ? `${(oursParallel / pub.pytorch[1]).toFixed(1)}-${(oursParallel / pub.pytorch[0]).toFixed(1)}x` : '-',
  ]);
  process.stderr.write(`  ${photo.name} done\n`);
}
await parallel?.close();

console.log(`mtcnn-ts against its peers, ${new Date().toISOString()}`);
console.log(machine());
console.log(`cores free for this process (probe: one busy thread against ${availableParallelism()} at once), before and after: ${coresBefore.toFixed(2)} / ${(await probeCores()).toFixed(2)}`);
console.log(`median ms of ${runs} runs after a warm-up (face-api cpu: ${cpuRuns}); all live columns measured in this run, one after the other per photo`);
console.log(`ours = Detector (1 thread), ours ${workers}w = ParallelDetector (${workers} worker threads); faces = ours/face-api`);
console.log(`r/o = crops scored by R-Net / O-Net, ours and face-api's (its candidates differ: see the header of bench/peers/peers.ts)`);
console.log(`ratio columns = peer ms / ours ms (above 1: we are faster); numpy and pytorch = published medians (not this run);`);
console.log(`"ours vs pytorch" = our ${workers}-worker ms / pytorch's published ms (below 2 meets "within 2x")\n`);
console.log(
  table(
    ['photo', 'size', 'faces', 'r/o ours', 'r/o fa', 'ours', `ours ${workers}w`, 'fa wasm', 'fa cpu', 'wasm/ours', `wasm/${workers}w`, 'cpu/ours', `cpu/${workers}w`, 'numpy*', 'numpy/ours', `numpy/${workers}w`, 'pytorch*', 'ours vs pytorch'],
    rows,
  ),
);
for (const [label, why] of Object.entries(missing)) console.log(`${label}: missing: ${why}`);
