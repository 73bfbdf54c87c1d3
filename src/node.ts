/**
 * mtcnn-ts/node: the Node-only conveniences on top of the core: the
 * exported weights file and PNG files read from disk, and ParallelDetector
 * (a Detector whose work is spread over worker threads).
 *
 *     import { Detector } from 'mtcnn-ts';
 *     import { loadWeightsFile, readPng } from 'mtcnn-ts/node';
 *     const faces = new Detector(loadWeightsFile()).detect(readPng('photo.png'));
 * @module
 */
export { DEFAULT_WEIGHTS_PATH, loadWeightsFile } from './node/weights.ts';
export { decodePng, readPng } from './node/png.ts';
export { ParallelDetector, type ParallelOptions } from './node/parallel.ts';
