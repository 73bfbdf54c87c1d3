/**
 * The five-point face template that face-recognition models are trained on:
 * where the eyes, nose tip and mouth corners land in a 112x112 aligned crop
 * (ArcFace/insightface's `arcface_dst`; the same points as the 96x112
 * SphereFace/CosFace template moved 8 pixels right). Coordinates use pixel
 * centres at integers, as cv2.warpAffine does (see warp.ts).
 * @module
 */
import { MtcnnError } from '../errors.ts';
import type { Point } from '../types.ts';

/** Side of the square crop TEMPLATE_112 is written for. */
export const TEMPLATE_SIZE = 112;

/** Left eye, right eye, nose, left mouth corner, right mouth corner, in O-Net's landmark order. */
export const TEMPLATE_112: readonly (readonly [number, number])[] = Object.freeze([
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
]);

/**
 * The template for a `width` x `height` crop: scaled by height / 112 and
 * centred horizontally. This reproduces the two uses seen in practice:
 * 96x112 (scale 1, x - 8: the original SphereFace template) and a square
 * crop of any side S (every coordinate times S / 112, e.g. 160 for facenet
 * models). insightface's own helper treats multiples of 128 differently
 * (scale S / 128 plus an 8-pixel shift, a 112 face inside a 128 canvas); for
 * that, pass the 128-based template yourself.
 * @throws MtcnnError('BAD_OPTIONS') when width or height is not a positive number
 * @example templateFor(96, 112)[0] // [30.2946, 51.6963]
 */
export function templateFor(width: number, height: number = width): Point[] {
  if (!(width > 0 && height > 0 && Number.isFinite(width) && Number.isFinite(height))) {
    throw new MtcnnError('BAD_OPTIONS', `templateFor: width and height must be positive numbers, got ${width}x${height}`);
  }
  const scale = height / TEMPLATE_SIZE;
  const shiftX = (width - TEMPLATE_SIZE * scale) / 2;
  return TEMPLATE_112.map(([x, y]): Point => [x * scale + shiftX, y * scale]);
}
