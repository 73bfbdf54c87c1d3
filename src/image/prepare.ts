/**
 * Getting pixels ready for the nets: the input image as RGB uint8 (what the
 * reference's reader gives), and the normalisation + transpose that
 * detect_face() applies before every net call.
 * @module
 */
import { MtcnnError, show } from '../errors.ts';
import type { ImageInput, RgbImage } from '../types.ts';

/**
 * The nets were trained on pixels mapped to about [-1, 1]: subtract the
 * middle of the byte range (127.5) and multiply by 1/128 (0.0078125, exact in
 * binary). detect_face.py: `im_data = (im_data-127.5)*0.0078125`.
 */
export const PIXEL_MEAN = 127.5;
export const PIXEL_SCALE = 0.0078125;

const badImage = (message: string) => new MtcnnError('BAD_IMAGE', message);

/**
 * Checks an image and returns it as RGB uint8 (h, w, 3). Gray gives three
 * equal channels and RGBA drops alpha, as cv2.imread(IMREAD_COLOR) does.
 * An image of more than `maxPixels` pixels is refused from its declared
 * size, before its data is read or anything is allocated.
 * Throws MtcnnError('BAD_IMAGE') naming the problem.
 */
export function toRgb(image: ImageInput, maxPixels = Infinity): RgbImage {
  if (image === null || typeof image !== 'object') throw badImage(`image must be an object {width, height, data}, got ${show(image)}`);
  const { width, height, data } = image;
  if (!Number.isSafeInteger(width) || width <= 0 || !Number.isSafeInteger(height) || height <= 0) {
    throw badImage(`image width and height must be positive integers, got width ${show(width)}, height ${show(height)}`);
  }
  if (width * height > maxPixels) throw badImage(`image is ${width}x${height}, more than maxPixels (${maxPixels})`);
  if (data === null || typeof data !== 'object' || typeof data.length !== 'number') {
    throw badImage(`image.data must be an array or typed array of pixel values, got ${show(data)}`);
  }
  const pixels = width * height;
  const channels = image.channels ?? data.length / pixels;
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw badImage(
      image.channels === undefined
        ? `image.data has ${data.length} values for ${width}x${height} pixels: expected 1, 3 or 4 per pixel`
        : `image.channels must be 1, 3 or 4, got ${show(image.channels)}`,
    );
  }
  if (data.length !== pixels * channels) {
    throw badImage(`image.data has ${data.length} values, expected ${width}x${height}x${channels} = ${pixels * channels}`);
  }
  const isBytes = data instanceof Uint8Array || data instanceof Uint8ClampedArray;
  if (isBytes && channels === 3) return { width, height, data: Uint8Array.from(data) };

  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) {
      const i = p * channels + (channels === 1 ? 0 : c);
      const v = data[i];
      // typeof: a string '5' or a BigInt would pass the range test by coercion
      if (!isBytes && !(typeof v === 'number' && v >= 0 && v <= 255)) {
        throw badImage(`image.data[${i}] is ${show(v)}: values must be numbers in [0, 255]`);
      }
      rgb[p * 3 + c] = Math.round(v);
    }
  }
  return { width, height, data: rgb };
}

/**
 * `(x - 127.5) * 0.0078125`, then the reference's transpose, into `out`:
 * src is (h, w, 3), out receives (w, h, 3) float32 starting at `outOffset`.
 *
 * The transpose is detect_face.py's `np.transpose(img_x, (0,2,1,3))` for P-Net
 * and `np.transpose(tempimg, (3,1,0,2))` for the crops: the MATLAB/Caffe
 * original was column-major, so the nets were trained on images with width
 * and height swapped. The arithmetic is float64 (numpy) and the float32
 * rounding happens when the value is stored, as TF casts at feed time.
 */
export function normalizeTransposed(
  src: Uint8Array | Float64Array, // (h, w, 3)
  h: number,
  w: number,
  out: Float32Array, // (w, h, 3) at outOffset
  outOffset = 0,
): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3;
      const d = outOffset + (x * h + y) * 3;
      out[d] = (src[s] - PIXEL_MEAN) * PIXEL_SCALE;
      out[d + 1] = (src[s + 1] - PIXEL_MEAN) * PIXEL_SCALE;
      out[d + 2] = (src[s + 2] - PIXEL_MEAN) * PIXEL_SCALE;
    }
  }
}
