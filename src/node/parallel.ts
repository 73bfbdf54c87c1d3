/**
 * ParallelDetector: detect_face() with its heavy steps spread over worker
 * threads (Node's worker_threads; the zero-dependency core does not need
 * this module). Its results are identical to Detector's, bit for bit: the
 * split is ../parallel/spread.ts's, shared with WebParallelDetector (Web
 * Workers); this module starts the threads and carries the messages.
 *
 * Speed-up with 2 workers on 2 cores: see bench/RESULTS.md.
 * @module
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from './start-worker.ts';
import { toFaces, type Detections } from '../detect.ts';
import { MtcnnError } from '../errors.ts';
import { Calls } from '../parallel/calls.ts';
import type { Reply } from '../parallel/jobs.ts';
import { detectSpread, MAX_WORKERS, workerCount } from '../parallel/spread.ts';
import type { DetectOptions, Face, ImageInput } from '../types.ts';
import { checkWeights, type MtcnnWeights } from '../weights/format.ts';

const WHO = 'ParallelDetector';

export interface ParallelOptions {
  /** Worker threads, 1 to 64; default os.availableParallelism() (at most 64). */
  workers?: number;
}

/** One worker thread (parallel-worker.ts) and its calls. */
function startThread(weights: MtcnnWeights): { calls: Calls; worker: Worker } {
  const worker = startWorker('parallel-worker', { weights });
  // Held (keeping the process alive) only while a call is in flight.
  worker.unref();
  const calls = new Calls(WHO, (message) => worker.postMessage(message), (busy) => (busy ? worker.ref() : worker.unref()));
  worker.on('message', (reply: Reply) => calls.settle(reply));
  worker.on('error', (e) => calls.fail(new MtcnnError('WORKER', `${WHO}: a worker failed: ${e.message}`)));
  worker.on('exit', (code) => calls.fail(new MtcnnError('WORKER', `${WHO}: a worker exited (code ${code})`)));
  return { calls, worker };
}

/**
 * Like Detector, with the work spread over worker threads; every method is
 * async. close() stops the workers.
 */
export class ParallelDetector {
  readonly weights: MtcnnWeights;
  /** How many worker threads it runs. */
  readonly workers: number;
  private readonly threads: { calls: Calls; worker: Worker }[];

  constructor(weights: MtcnnWeights, options: ParallelOptions = {}) {
    checkWeights(weights, `${WHO} weights`);
    const n = workerCount(options.workers ?? Math.min(availableParallelism(), MAX_WORKERS), WHO);
    this.weights = weights;
    this.workers = n;
    this.threads = [];
    try {
      for (let i = 0; i < n; i++) this.threads.push(startThread(weights));
    } catch (e) {
      for (const t of this.threads) void t.worker.terminate();
      throw new MtcnnError('WORKER', `${WHO}: cannot start a worker thread: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  /** Faces in one image (the same as Detector.detect). */
  async detect(image: ImageInput, options?: DetectOptions): Promise<Face[]> {
    return toFaces(await this.detectRaw(image, options));
  }

  /** detect_face()'s total_boxes and points (the same as Detector.detectRaw, without a trace hook). */
  detectRaw(image: ImageInput, options?: DetectOptions): Promise<Detections> {
    return detectSpread(this.threads.map((t) => t.calls), image, options, WHO);
  }

  /** Stops the workers; calls in flight and later calls are rejected. (Idle workers do not keep the process alive.) */
  async close(): Promise<void> {
    for (const t of this.threads) t.calls.fail(new MtcnnError('WORKER', `${WHO} is closed`));
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
