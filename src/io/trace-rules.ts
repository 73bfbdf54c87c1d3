/**
 * Which calls and arrays a golden trace lists, as ../shared/mtcnn/tools/generate.py
 * decides it. The pipeline reports every helper call; a trace in the golden
 * format lists only some of them and keeps only some arrays as files. These
 * rules make this project's traces line up with the Python ones call for call.
 * @module
 */
import type { TraceCall, TraceHook } from '../pipeline/trace.ts';

/** Above this many pixels, a photo's pyramid images and P-Net maps are kept as digests only. */
export const FULL_MAP_MAX_PIXELS = 800 * 800;
/** Only the first 12 crops of each stage are listed ... */
export const CROPS_KEPT = 12;
/** ... and of those, only crops of at most 160x160 pixels. */
export const CROP_MAX_PIXELS = 160 * 160;

/**
 * A hook that forwards to `next` exactly the calls a golden trace lists. Crop
 * resizes (float64 input) are counted per target size, listed or not, and
 * only the first CROPS_KEPT of each size that are small enough are passed on.
 */
export function goldenCalls(next: TraceHook): TraceHook {
  const cropsSeen = new Map<number, number>();
  return (call: TraceCall) => {
    if (call.fn === 'imresample' && call.params.in_dtype === 'float64') {
      const size = (call.params.size as number[])[0];
      const n = cropsSeen.get(size) ?? 0;
      cropsSeen.set(size, n + 1);
      const [h, w] = call.arrays.in.shape;
      if (n >= CROPS_KEPT || h * w > CROP_MAX_PIXELS) return;
    }
    next(call);
  };
}

/** Whether generate.py keeps `key` of `call` as an .npy file (else only its digest). `full`: the photo has at most FULL_MAP_MAX_PIXELS. */
export function keepsFile(call: TraceCall, key: string, full: boolean): boolean {
  switch (call.fn) {
    case 'imresample':
      return call.params.in_dtype === 'float64' || full; // crops always, pyramid levels on small photos
    case 'pnet':
      return key !== 'in' && full;
    case 'rnet':
    case 'onet':
      return key !== 'in' || full;
    case 'generateBoundingBox':
      return key === 'boundingbox'; // imap and reg come from the pnet call before it
    default:
      return true;
  }
}
