/**
 * mtcnn-ts: MTCNN face detection (Zhang et al. 2016) in pure TypeScript,
 * equal step by step to facenet's src/align/detect_face.py.
 *
 * This entry is runtime-neutral (browsers, workers, Deno, Bun, Node): no
 * dependencies, no Node APIs. Node helpers (reading weights and PNG files)
 * are in `mtcnn-ts/node`.
 *
 *     const detector = new Detector(parseWeights(await (await fetch('mtcnn.bin')).arrayBuffer()));
 *     const faces = detector.detect(imageData); // [{ box, score, landmarks, ... }]
 * @module
 */
export { Detector, type BatchOptions, type Detections, type StageTimings } from './detect.ts';
export { MtcnnError, type MtcnnErrorCode } from './errors.ts';
export { DEFAULT_OPTIONS, resolveOptions, type ResolvedOptions } from './options.ts';
export { parseWeights, type MtcnnWeights, type NetWeights, type Tensor } from './weights/format.ts';
export type { TraceArray, TraceCall, TraceFn, TraceHook, TraceStage } from './pipeline/trace.ts';
export type { BoxArray } from './pipeline/boxes.ts';
export { cropFace, imresize, marginBox, pickFace, DEFAULT_IMAGE_SIZE, DEFAULT_MARGIN, type CropOptions, type PixelBox } from './align/crop.ts';
export { alignFace } from './align/align-face.ts';
export { similarityTransform, invertAffine, type Affine } from './align/similarity.ts';
export { TEMPLATE_112, TEMPLATE_SIZE, templateFor } from './align/template.ts';
export { warpAffine } from './align/warp.ts';
export { LANDMARK_NAMES, type DetectOptions, type Face, type ImageInput, type Landmarks, type Point, type PyramidSource, type RgbImage } from './types.ts';
