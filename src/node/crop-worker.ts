/**
 * A worker thread of `mtcnn crop` (see crop-job.ts): loads the weights once,
 * then crops one image per message (crop-image.ts), `{ index, task }` in,
 * `{ index, result }` out.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Detector } from '../detect.ts';
import { processImage, type CropSettings, type CropTask } from './crop-image.ts';
import { loadWeightsFile } from './weights.ts';

const { settings, weights } = workerData as { settings: CropSettings; weights: string | undefined };
const detector = new Detector(loadWeightsFile(weights));

parentPort!.on('message', ({ index, task }: { index: number; task: CropTask }) => {
  parentPort!.postMessage({ index, result: processImage(detector, task, settings) });
});
