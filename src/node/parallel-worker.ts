/**
 * A worker thread of ParallelDetector (parallel.ts): holds the weights (its
 * own packed copies, made on first use), then does the jobs it is sent
 * (../parallel/jobs.ts), answering each with its result or error.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { answer, type Job } from '../parallel/jobs.ts';
import type { MtcnnWeights } from '../weights/format.ts';

const weights = (workerData as { weights: MtcnnWeights }).weights;

parentPort!.on('message', ({ id, job }: { id: number; job: Job }) => {
  const { reply, transfer } = answer(weights, id, job);
  parentPort!.postMessage(reply, transfer);
});
