/**
 * A Web Worker of WebParallelDetector (web.ts): its first message brings the
 * weights (packed on first use, as a Detector's are), each later one a job
 * (jobs.ts), answered with its result or error.
 * @module
 */
import type { MtcnnWeights } from '../weights/format.ts';
import { answer, type Job } from './jobs.ts';

/** The parts of a worker's global scope used here (the core compiles without the DOM's types). */
interface WorkerScope {
  addEventListener(type: 'message', listener: (event: { data: { weights: MtcnnWeights } | { id: number; job: Job } }) => void): void;
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
}
const scope = globalThis as unknown as WorkerScope;

let weights: MtcnnWeights | null = null;

scope.addEventListener('message', ({ data }) => {
  if ('weights' in data) {
    weights = data.weights;
    return;
  }
  if (weights === null) {
    scope.postMessage({ id: data.id, error: { message: 'a job came before the weights' } }, []);
    return;
  }
  const { reply, transfer } = answer(weights, data.id, data.job);
  scope.postMessage(reply, transfer);
});
