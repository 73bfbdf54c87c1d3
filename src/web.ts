/**
 * mtcnn-ts/web: WebParallelDetector, a Detector whose work is spread over
 * Web Workers (browsers, Deno, Bun). Optional, and kept out of the core's
 * entry: a page that only needs Detector never loads it.
 *
 *     import { parseWeights } from 'mtcnn-ts';
 *     import { WebParallelDetector } from 'mtcnn-ts/web';
 *     const detector = new WebParallelDetector(parseWeights(bytes)); // navigator.hardwareConcurrency workers
 *     const faces = await detector.detect(imageData);
 *     await detector.close();
 * @module
 */
export { WebParallelDetector, type WebParallelOptions } from './parallel/web.ts';
