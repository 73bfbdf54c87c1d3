/**
 * facenet's face thumbnails: the crop that src/align/align_dataset_mtcnn.py
 * cuts around each detected face (line numbers below are of that file at
 * facenet commit 4c33d4d):
 *
 * - pickFace: which face, when several are found and one is wanted (the
 *   script's default, `--detect_multiple_faces` False; lines 102-114);
 * - marginBox: the box grown by margin / 2 on each side, clipped to the image
 *   and cast to int32 (lines 117-122);
 * - cropFace: that box cut out (line 123) and resized to image_size x
 *   image_size (line 124) with imresize.
 *
 * The script's defaults: margin 44 pixels, image_size 182 (lines 146-149);
 * facenet's models are trained on 160x160 crops of 182x182 ones, and
 * `--image_size 160` is the other common choice.
 * @module
 */
import { MtcnnError } from '../errors.ts';
import type { Face, RgbImage } from '../types.ts';

/** A crop box in whole pixels, [x1, y1, x2, y2], x2 and y2 exclusive (numpy slice bounds). */
export type PixelBox = [x1: number, y1: number, x2: number, y2: number];

/** align_dataset_mtcnn.py's --margin default, in pixels (split evenly: margin / 2 per side). */
export const DEFAULT_MARGIN = 44;
/** align_dataset_mtcnn.py's --image_size default. */
export const DEFAULT_IMAGE_SIZE = 182;

/**
 * The face the script keeps when it wants one: the largest box, penalised by
 * how far its centre is from the image centre (squared distance, weight 2),
 * i.e. argmax of `area - 2 * |centre - image centre|^2`. As in the script the
 * area is (x2 - x1) * (y2 - y1) of detect_face()'s float box, the image centre
 * is (width / 2, height / 2) in true division (the script's
 * `from __future__ import division`), and ties go to the first face
 * (np.argmax).
 * @returns the index into `faces`, or -1 when there are none
 */
export function pickFace(faces: readonly Pick<Face, 'box'>[], width: number, height: number): number {
  let best = -1,
    bestScore = -Infinity;
  const cx = width / 2,
    cy = height / 2;
  for (let i = 0; i < faces.length; i++) {
    const [x1, y1, x2, y2] = faces[i].box;
    const size = (x2 - x1) * (y2 - y1);
    const ox = (x1 + x2) / 2 - cx,
      oy = (y1 + y2) / 2 - cy;
    const score = size - (ox ** 2 + oy ** 2) * 2.0;
    // Strictly greater: the first of equal scores wins, like np.argmax.
    if (best < 0 || score > bestScore) {
      best = i;
      bestScore = score;
    }
  }
  return best;
}

/**
 * The script's crop box: the detection box grown by margin / 2 on every
 * side, the top-left clipped at 0 and the bottom-right at the image size,
 * then stored into an int32 array, which truncates toward zero. Exactly:
 *
 *   bb[0] = int32(max(x1 - margin/2, 0))       bb[2] = int32(min(x2 + margin/2, width))
 *   bb[1] = int32(max(y1 - margin/2, 0))       bb[3] = int32(min(y2 + margin/2, height))
 *
 * So x1, y1 are floored and x2, y2 truncated too (the crop loses the
 * fractional pixel on the right and bottom). Each side is clipped only on
 * its own end, as in the script: a box wholly outside the image yields an
 * empty crop, which cropFace refuses.
 */
export function marginBox(box: readonly number[], margin: number, width: number, height: number): PixelBox {
  const half = margin / 2;
  return [
    Math.trunc(Math.max(box[0] - half, 0)) | 0,
    Math.trunc(Math.max(box[1] - half, 0)) | 0,
    Math.trunc(Math.min(box[2] + half, width)) | 0,
    Math.trunc(Math.min(box[3] + half, height)) | 0,
  ];
}

export interface CropOptions {
  /** Pixels added around the box, half on each side. Default 44. */
  margin?: number;
  /** Side of the square output. Default 182. */
  size?: number;
}

/**
 * One face thumbnail as align_dataset_mtcnn.py writes it: the margin box
 * (marginBox) cut out and resized to size x size with imresize.
 * @returns the thumbnail and the integer box it was cut from (the numbers the
 *   script writes to bounding_boxes.txt)
 * @throws MtcnnError('DEGENERATE_CROP') when the margin box holds no pixel
 *   (where numpy would slice an empty array and imresize fail);
 *   MtcnnError('BAD_OPTIONS') for a bad margin or size; MtcnnError('BAD_IMAGE')
 *   for an inconsistent image
 */
export function cropFace(image: RgbImage, face: Pick<Face, 'box'>, options: CropOptions = {}): { image: RgbImage; box: PixelBox } {
  const margin = options.margin ?? DEFAULT_MARGIN;
  const size = options.size ?? DEFAULT_IMAGE_SIZE;
  if (!Number.isFinite(margin)) throw new MtcnnError('BAD_OPTIONS', `cropFace: margin must be a finite number, got ${margin}`);
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new MtcnnError('BAD_OPTIONS', `cropFace: size must be a positive integer, got ${size}`);
  }
  checkImage(image, 'cropFace');
  const box = marginBox(face.box, margin, image.width, image.height);
  const [x1, y1, x2, y2] = box;
  if (!(x1 < x2 && y1 < y2 && x2 > 0 && y2 > 0 && x1 < image.width && y1 < image.height)) {
    throw new MtcnnError(
      'DEGENERATE_CROP',
      `cropFace: the margin box [${box.join(', ')}] holds no pixel of the ${image.width}x${image.height} image`,
    );
  }
  return { image: imresize(cropPixels(image, box), size, size), box };
}

/** Pixels [y1, y2) x [x1, x2) of the image, a copy (numpy's img[y1:y2, x1:x2, :]). */
function cropPixels(image: RgbImage, [x1, y1, x2, y2]: PixelBox): RgbImage {
  const width = x2 - x1,
    height = y2 - y1;
  const data = new Uint8Array(width * height * 3); // (height, width, 3)
  for (let y = 0; y < height; y++) {
    const from = ((y1 + y) * image.width + x1) * 3;
    data.set(image.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height, data };
}

function checkImage(image: RgbImage, fn: string): void {
  const { width, height, data } = image;
  if (!Number.isSafeInteger(width) || width <= 0 || !Number.isSafeInteger(height) || height <= 0) {
    throw new MtcnnError('BAD_IMAGE', `${fn}: image width and height must be positive integers, got ${width}x${height}`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * 3) {
    throw new MtcnnError('BAD_IMAGE', `${fn}: image data must be a Uint8Array of ${width}x${height}x3 bytes`);
  }
}

/**
 * Bilinear resize in the manner of `scipy.misc.imresize(img, size,
 * interp='bilinear')`, which hands the array to PIL's `Image.resize(size,
 * Image.BILINEAR)` (Pillow's Resample.c since 2.7). That is not textbook
 * 2x2 bilinear interpolation: it is a separable convolution with the
 * triangle filter, stretched by the scale when shrinking, so every source
 * pixel under the output pixel counts (no aliasing on a 3x shrink):
 *
 * - per axis, output pixel i is centred at source coordinate c = (i + 0.5) * s
 *   (s = in / out), with pixel j covering [j, j + 1);
 * - the filter is tri(d) = max(0, 1 - |d|) with d = (j + 0.5 - c) / max(s, 1),
 *   over the source pixels j in [trunc(c - r + 0.5), trunc(c + r + 0.5)),
 *   r = max(s, 1), clipped to the image, the weights divided by their sum;
 * - the weights in 22-bit fixed point, as Pillow keeps them;
 * - rows first, into an intermediate uint8 image, then columns; each pass
 *   rounds to the nearest byte, ties up, and clamps to [0, 255].
 *
 * Checked by hand against Pillow 12.3's Image.resize(BILINEAR) on 180 random
 * crops of the shared photos (1 to 600 pixels a side, to 160, 182 and random
 * sizes, shrinking and enlarging): equal byte for byte. That check needs
 * Pillow, so it is not part of the test suite; the tests pin the filter's
 * behaviour on hand-computed cases. Pillow before 2.7 (2015) sampled 2x2
 * neighbours instead, and scipy.misc.imresize used whichever Pillow was
 * installed, so a facenet run of that era may differ.
 * @param image (h, w, 3) RGB
 * @returns (height, width, 3) RGB
 */
export function imresize(image: RgbImage, width: number, height: number): RgbImage {
  checkImage(image, 'imresize');
  if (!Number.isSafeInteger(width) || width <= 0 || !Number.isSafeInteger(height) || height <= 0) {
    throw new MtcnnError('BAD_OPTIONS', `imresize: output size must be positive integers, got ${width}x${height}`);
  }
  const { width: w, height: h } = image;
  // Rows first: (h, w, 3) -> (h, width, 3), each row a line of w pixels 3 bytes apart.
  // An axis whose size does not change is skipped, as PIL does.
  const rows =
    width === w ? image.data : resampleLines(image.data, h, w, width, { pixel: 3, line: 3 * w }, { pixel: 3, line: 3 * width });
  // Then columns: (h, width, 3) -> (height, width, 3), each column a line of h pixels 3 * width bytes apart.
  const data =
    height === h ? rows : resampleLines(rows, width, h, height, { pixel: 3 * width, line: 3 }, { pixel: 3 * width, line: 3 });
  return { width, height, data: data === image.data ? data.slice() : data };
}

/** Byte distances between neighbouring pixels of a line and between the starts of neighbouring lines. */
interface Strides {
  pixel: number;
  line: number;
}

/**
 * Resamples `lines` independent lines of `inSize` RGB pixels to `outSize`
 * pixels each, with the triangle filter (one pass of imresize). Pixel k of
 * line l is at byte l * line + k * pixel, in `src` with strides `from`, in the
 * result with strides `to`.
 */
function resampleLines(src: Uint8Array, lines: number, inSize: number, outSize: number, from: Strides, to: Strides): Uint8Array {
  const { first, count, weights, taps } = triangleWeights(inSize, outSize);
  const out = new Uint8Array(lines * outSize * 3);
  for (let l = 0; l < lines; l++) {
    const lineIn = l * from.line,
      lineOut = l * to.line;
    for (let i = 0; i < outSize; i++) {
      const j0 = first[i],
        n = count[i],
        row = i * taps;
      // Start at one half (2^21) so that the shift below rounds half up.
      let r = HALF,
        g = HALF,
        b = HALF;
      for (let k = 0; k < n; k++) {
        const p = lineIn + (j0 + k) * from.pixel;
        const wk = weights[row + k];
        r += wk * src[p];
        g += wk * src[p + 1];
        b += wk * src[p + 2];
      }
      const o = lineOut + i * to.pixel;
      out[o] = toByte(r);
      out[o + 1] = toByte(g);
      out[o + 2] = toByte(b);
    }
  }
  return out;
}

/** Weights are fixed point with PRECISION_BITS fraction bits, as Pillow's (32 - 8 - 2: room for 8-bit pixels and overshoot). */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** The byte of a fixed-point sum (already offset by HALF), clamped to [0, 255]: Pillow's clip8. */
const toByte = (sum: number) => {
  const v = sum >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
};

/**
 * Pillow's precompute_coeffs for the bilinear (triangle) filter: for each
 * output pixel i, the first source pixel, how many follow, and their
 * normalised weights in fixed point (row i of an (outSize, taps) table).
 */
function triangleWeights(inSize: number, outSize: number) {
  const scale = inSize / outSize;
  const stretch = Math.max(scale, 1); // the filter widens only when shrinking
  const support = stretch; // the triangle's half-width, 1, times the stretch
  const inverse = 1 / stretch; // Pillow multiplies by the reciprocal; dividing could round differently
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const exact = new Float64Array(taps); // one output pixel's weights before normalising
  const weights = new Int32Array(outSize * taps); // (outSize, taps) fixed point
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    // C's (int) cast truncates; the +0.5 rounds the bounds to whole pixels.
    const j0 = Math.max(Math.trunc(centre - support + 0.5), 0);
    const j1 = Math.min(Math.trunc(centre + support + 0.5), inSize);
    let sum = 0;
    for (let j = j0; j < j1; j++) {
      const d = Math.abs((j - centre + 0.5) * inverse);
      exact[j - j0] = d < 1 ? 1 - d : 0;
      sum += exact[j - j0];
    }
    // Normalise, then round to fixed point (the weights are >= 0).
    for (let k = 0; k < j1 - j0; k++) weights[i * taps + k] = Math.trunc(0.5 + (sum !== 0 ? exact[k] / sum : exact[k]) * ONE);
    first[i] = j0;
    count[i] = j1 - j0;
  }
  return { first, count, weights, taps };
}
