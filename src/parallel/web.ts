/**
 * WebParallelDetector: detect_face() with its heavy steps spread over Web
 * Workers, for browsers (and Deno, Bun: any runtime with the Web Worker
 * API). The split is spread.ts's, the same as ParallelDetector's in Node, and
 * so are the results: Detector's, bit for bit. Optional: nothing in the core
 * imports this module; it is the package's `mtcnn-ts/web` entry.
 *
 *     import { parseWeights } from 'mtcnn-ts';
 *     import { WebParallelDetector } from 'mtcnn-ts/web';
 *     const detector = new WebParallelDetector(parseWeights(bytes), { workers: 2 });
 *     const faces = await detector.detect(imageData);
 *
 * Each worker is a module worker running web-worker.js, found beside this
 * module: `new Worker(new URL('./web-worker.js', import.meta.url), ...)`,
 * written in one expression as bundlers (Vite, webpack 5) need to find the
 * worker and bundle it; `workerUrl` points elsewhere. The weights go to each worker
 * once; the image goes with each job, in shared memory when the page is
 * cross-origin isolated (spread.ts, inSharedMemory), else as a copy.
 * @module
 */
import { toFaces, type Detections } from '../detect.ts';
import { MtcnnError } from '../errors.ts';
import type { DetectOptions, Face, ImageInput } from '../types.ts';
import { checkWeights, type MtcnnWeights } from '../weights/format.ts';
import { Calls } from './calls.ts';
import type { Reply } from './jobs.ts';
import { detectSpread, MAX_WORKERS, workerCount } from './spread.ts';

const WHO = 'WebParallelDetector';

export interface WebParallelOptions {
  /** Web Workers, 1 to 64; default navigator.hardwareConcurrency (at most 64), or 2 where it is unknown. */
  workers?: number;
  /** The worker module (web-worker.js); by default the one beside this module. */
  workerUrl?: string | WebUrl;
}

/** The parts of the Web Worker API used here (the core compiles without the DOM's types). */
interface WebWorker {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  addEventListener(type: 'message' | 'error' | 'messageerror', listener: (event: { data?: unknown; message?: unknown }) => void): void;
  terminate(): void;
}
type WorkerConstructor = new (url: string | WebUrl, options: { type: 'module'; name?: string }) => WebWorker;
/** A URL object (the Web platform's URL class, which every runtime with Web Workers has). */
interface WebUrl {
  readonly href: string;
}
declare const URL: new (url: string, base: string) => WebUrl;
const env = globalThis as { Worker?: WorkerConstructor; navigator?: { hardwareConcurrency?: number } };

/**
 * One Web Worker, made by `create`, given the weights, and its calls.
 * @param where the worker module, as error messages name it
 */
function startWebWorker(create: () => WebWorker, where: string, weights: MtcnnWeights): { calls: Calls; worker: WebWorker } {
  const worker = create();
  const calls = new Calls(WHO, (message) => worker.postMessage(message));
  worker.addEventListener('message', (event) => calls.settle(event.data as Reply));
  worker.addEventListener('error', (event) => {
    // A worker that cannot load (wrong URL, not a module) reports an error event without a message.
    const why = typeof event.message === 'string' && event.message !== '' ? event.message : `could not load or run ${where}`;
    calls.fail(new MtcnnError('WORKER', `${WHO}: a worker failed: ${why}`));
  });
  worker.addEventListener('messageerror', () => calls.fail(new MtcnnError('WORKER', `${WHO}: a worker's reply could not be read`)));
  worker.postMessage({ weights });
  return { calls, worker };
}

/**
 * Like Detector, with the work spread over Web Workers; every method is
 * async. close() stops the workers.
 */
export class WebParallelDetector {
  readonly weights: MtcnnWeights;
  /** How many Web Workers it runs. */
  readonly workers: number;
  private readonly pool: { calls: Calls; worker: WebWorker }[];

  constructor(weights: MtcnnWeights, options: WebParallelOptions = {}) {
    checkWeights(weights, `${WHO} weights`);
    const Worker = env.Worker;
    if (typeof Worker !== 'function') {
      throw new MtcnnError('WORKER', `${WHO} needs Web Workers (globalThis.Worker), which this runtime lacks; in Node use ParallelDetector from 'mtcnn-ts/node'`);
    }
    const cores = env.navigator?.hardwareConcurrency;
    const n = workerCount(options.workers ?? (cores !== undefined && cores >= 1 ? Math.min(cores, MAX_WORKERS) : 2), WHO);
    const url = options.workerUrl;
    // The options written out in place too: bundlers read `type: 'module'` from the expression.
    const create =
      url === undefined
        ? () => new Worker(new URL('./web-worker.js', (import.meta as { url: string }).url), { type: 'module', name: 'mtcnn-ts' })
        : () => new Worker(url, { type: 'module', name: 'mtcnn-ts' });
    const where = url === undefined ? "web-worker.js beside mtcnn-ts/web's web.js (give workerUrl if a bundler moved it)" : typeof url === 'string' ? url : url.href;
    this.weights = weights;
    this.workers = n;
    this.pool = [];
    try {
      for (let i = 0; i < n; i++) this.pool.push(startWebWorker(create, where, weights));
    } catch (e) {
      // new Worker throws at once on a URL it refuses (another origin, not a URL at all)
      for (const w of this.pool) w.worker.terminate();
      throw new MtcnnError('WORKER', `${WHO}: cannot start a worker from ${where}: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  /** Faces in one image (the same as Detector.detect). */
  async detect(image: ImageInput, options?: DetectOptions): Promise<Face[]> {
    return toFaces(await this.detectRaw(image, options));
  }

  /** detect_face()'s total_boxes and points (the same as Detector.detectRaw, without a trace hook). */
  detectRaw(image: ImageInput, options?: DetectOptions): Promise<Detections> {
    return detectSpread(this.pool.map((w) => w.calls), image, options, WHO);
  }

  /** Stops the workers; calls in flight and later calls are rejected. (Async only to match ParallelDetector.close.) */
  async close(): Promise<void> {
    for (const w of this.pool) {
      w.calls.fail(new MtcnnError('WORKER', `${WHO} is closed`));
      w.worker.terminate();
    }
  }
}
