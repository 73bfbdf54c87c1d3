/**
 * The work a detection sends to its workers (ParallelDetector's worker
 * threads in Node, WebParallelDetector's Web Workers elsewhere), and how a
 * worker does it: with the very functions detectFace (../detect.ts) runs.
 *
 *   propose  stage 1 at some pyramid levels (proposeAtScale per scale)
 *   rnet     24x24 crops of some candidates, then R-Net on them
 *   onet     48x48 crops of some candidates, then O-Net on them
 *
 * The messages: `{ id, job }` to a worker, `{ id, result }` or
 * `{ id, error }` back (an error as plain data: MtcnnError's class does not
 * survive structured cloning, its code and message do).
 * Runtime-neutral: no Node API, no DOM.
 * @module
 */
import { MtcnnError, type MtcnnErrorCode } from '../errors.ts';
import { onet, ONET_SIZE } from '../nets/onet.ts';
import { rnet, RNET_SIZE } from '../nets/rnet.ts';
import type { BoxArray, PadResult } from '../pipeline/boxes.ts';
import { cropBatch } from '../pipeline/crop.ts';
import { proposeAtScale } from '../pipeline/stage1.ts';
import type { RgbImage } from '../types.ts';
import type { MtcnnWeights } from '../weights/format.ts';

export type ProposeJob = { kind: 'propose'; image: RgbImage; scales: number[]; t: number };
export type CropJob = { kind: 'rnet' | 'onet'; image: RgbImage; pad: PadResult; count: number };
export type Job = ProposeJob | CropJob;

/** Stage 1's answer: each level's candidates, in the order of the job's scales. */
export interface Proposals {
  boxes: BoxArray[];
}

/** R-Net's or O-Net's answer: the crops made (`kept`, indices into the job's candidates) and their scores (landmarks from O-Net). */
export interface CropScores {
  kept: number[];
  reg: Float32Array;
  prob: Float32Array;
  landmarks?: Float32Array;
}

export type JobResult = Proposals | CropScores;

/** An error as a worker sends it back. */
export interface JobError {
  code?: MtcnnErrorCode;
  message: string;
}

export type Reply = { id: number; result: JobResult; error?: undefined } | { id: number; error: JobError };

/** Does one job; `transfer` lists the result's buffers, which the worker hands over instead of copying. */
function runJob(weights: MtcnnWeights, job: Job): { result: JobResult; transfer: ArrayBuffer[] } {
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

/** A worker's answer to `{ id, job }`: the reply and the buffers to transfer with it. */
export function answer(weights: MtcnnWeights, id: number, job: Job): { reply: Reply; transfer: ArrayBuffer[] } {
  try {
    const { result, transfer } = runJob(weights, job);
    return { reply: { id, result }, transfer };
  } catch (e) {
    const error = e instanceof MtcnnError ? { code: e.code, message: e.message } : { message: String((e as Error)?.stack ?? e) };
    return { reply: { id, error }, transfer: [] };
  }
}

/** The error a reply carries, as the caller gets it: an MtcnnError again when it was one. */
export function jobError(error: JobError, who: string): Error {
  return error.code ? new MtcnnError(error.code, error.message) : new Error(`${who} worker: ${error.message}`);
}
