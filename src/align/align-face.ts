/**
 * alignFace: 5-point similarity alignment of a detected face, the crop that
 * face-recognition models (ArcFace and its kin) expect. Not part of facenet,
 * whose align_dataset_mtcnn.py only cuts the margin box (see crop.ts): the
 * five O-Net landmarks are mapped onto the template (template.ts) by the
 * least-squares similarity (similarity.ts) and the image is warped with it
 * (warp.ts).
 * @module
 */
import { MtcnnError } from '../errors.ts';
import { LANDMARK_NAMES, type Face, type Point, type RgbImage } from '../types.ts';
import { similarityTransform } from './similarity.ts';
import { templateFor } from './template.ts';
import { warpAffine } from './warp.ts';

/**
 * The face rotated, scaled and moved so that its landmarks sit on the
 * five-point template, as a `size` x `size` RGB image (parts outside the
 * photo are black).
 * @param size side of the output; the template is scaled by size / 112
 * @throws MtcnnError('BAD_OPTIONS') for a size that is not a positive integer
 *   or landmarks that all coincide; MtcnnError('BAD_IMAGE') for an
 *   inconsistent image
 * @example
 * const [face] = detector.detect(image);
 * const crop = alignFace(image, face); // 112x112, eyes at (38.3, 51.7) and (73.5, 51.5)
 */
export function alignFace(image: RgbImage, face: Face, size = 112): RgbImage {
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new MtcnnError('BAD_OPTIONS', `alignFace: size must be a positive integer, got ${size}`);
  }
  const landmarks: Point[] = LANDMARK_NAMES.map((name) => face.landmarks[name]);
  return warpAffine(image, similarityTransform(landmarks, templateFor(size)), size, size);
}
