/**
 * A worker thread of ParallelDetector (parallel.ts): holds the weights (its
 * own packed copies, made on first use), then runs the heavy steps it is
 * sent, with the very functions detectFace uses:
 *   propose  stage 1 at some pyramid levels (proposeAtScale per scale)
 *   rnet     24x24 crops of some candidates, then R-Net on them
 *   onet     48x48 crops of some candidates, then O-Net on them
 * Messages `{ id, job }` in, `{ id, result }` or `{ id, error }` out.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MtcnnError } from '../errors.ts';
import { onet, ONET_SIZE } from '../nets/onet.ts';
import { rnet, RNET_SIZE } from '../nets/rnet.ts';
import { cropBatch } from '../pipeline/crop.ts';
import { proposeAtScale } from '../pipeline/stage1.ts';
import type { MtcnnWeights } from '../weights/format.ts';
import type { Job, JobResult } from './parallel.ts';

const weights = (workerData as { weights: MtcnnWeights }).weights;

function run(job: Job): { result: JobResult; transfer: ArrayBuffer[] } {
  if (job.kind === 'propose') {
    const boxes = job.scales.map((scale) => proposeAtScale(job.image, scale, job.t, weights.pnet));
    return { result: { boxes }, transfer: boxes.map((b) => b.data.buffer as ArrayBuffer) };
  }
  const size = job.kind === 'rnet' ? RNET_SIZE : ONET_SIZE;
  const batch = cropBatch(job.image, job.pad, job.count, size, job.kind === 'rnet' ? 'stage2' : 'stage3');
  const n = batch.kept.length;
  if (job.kind === 'rnet') {
    const out = rnet(weights.rnet, batch.input, n);
    return { result: { kept: batch.kept, ...out }, transfer: [out.reg.buffer, out.prob.buffer] as ArrayBuffer[] };
  }
  const out = onet(weights.onet, batch.input, n);
  const transfer = [out.reg.buffer, out.landmarks.buffer, out.prob.buffer] as ArrayBuffer[];
  return { result: { kept: batch.kept, ...out }, transfer };
}

parentPort!.on('message', ({ id, job }: { id: number; job: Job }) => {
  try {
    const { result, transfer } = run(job);
    parentPort!.postMessage({ id, result }, transfer);
  } catch (e) {
    const error = e instanceof MtcnnError ? { code: e.code, message: e.message } : { message: String((e as Error)?.stack ?? e) };
    parentPort!.postMessage({ id, error });
  }
});
