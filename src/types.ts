/**
 * Public types: what goes into a detection and what comes out.
 * @module
 */

/**
 * An image as bytes, row-major, interleaved channels: `data[(y * width + x) * channels + c]`.
 * A browser `ImageData` (RGBA, Uint8ClampedArray) passes as it is. `channels` is
 * inferred from the data length when omitted: 1 (gray), 3 (RGB) or 4 (RGBA;
 * alpha is dropped without compositing, as OpenCV's imread does).
 * Float data must hold values in [0, 255]; it is rounded to the nearest byte,
 * since the reference works on uint8 images.
 */
export interface ImageInput {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray | Float32Array | Float64Array | ArrayLike<number>;
  channels?: 1 | 3 | 4;
}

/** The image as the reference sees it: RGB uint8, (height, width, 3). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array; // (h, w, 3) RGB
}

export type Point = [x: number, y: number];

/** The five O-Net landmarks, in the order O-Net outputs them. */
export interface Landmarks {
  leftEye: Point;
  rightEye: Point;
  nose: Point;
  mouthLeft: Point;
  mouthRight: Point;
}

export const LANDMARK_NAMES = ['leftEye', 'rightEye', 'nose', 'mouthLeft', 'mouthRight'] as const;

export interface Face {
  /** [x1, y1, x2, y2] exactly as detect_face() returns them (float64, not rounded, not clipped). */
  box: [x1: number, y1: number, x2: number, y2: number];
  /** Convenience: x = x1, y = y1, width = x2 - x1, height = y2 - y1. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** O-Net's face probability (float32 value). */
  score: number;
  /** Landmarks as detect_face() computes them (float32 values, like its `points`). */
  landmarks: Landmarks;
}

export interface DetectOptions {
  /** Smallest face size to look for, in pixels. Default 20 (detect_face.py's callers). */
  minsize?: number;
  /** Score thresholds of P-Net, R-Net, O-Net. Default [0.6, 0.7, 0.7]. */
  thresholds?: [number, number, number];
  /** Ratio between pyramid levels, in (0, 1). Default 0.709. */
  factor?: number;
  /** Largest image, and largest pyramid level, accepted, in pixels. Default 2^26. */
  maxPixels?: number;
  /**
   * How each pyramid level is made (pipeline/stage1.ts). `'from-image'`, the
   * default, is detect_face()'s way: every level is the image resized with
   * INTER_AREA. `'from-previous'` resizes level k from level k-1 (the first
   * from the image): an opt-in speed-up that CHANGES RESULTS (the pixels of
   * every level after the first differ, so scores and boxes differ, and the
   * faces found can too) and is never the default. Same scales, same level sizes.
   *
   * Measured by `npm run docs` (docs/walkthrough.md, "Speed-ups and what
   * they cost"; numbers copied here by hand from its output of 2026-12-04,
   * 2-core AMD EPYC, Node 20, Winograd kernels): it saves only resizing
   * time, 73 -> 29 ms on bbt1 (1366x768; 3% of its 1.4 s detection) and
   * 162 -> 54 ms on portrait_ks (1125x1612; 11% of 0.94 s), so at best a
   * 1.03x / 1.13x speed-up. On the ten shared photos it finds the same 19
   * faces (none lost, none new), but 16 of them with a box moved by more
   * than 1 px, up to 10.4 px (portrait_ks).
   */
  pyramid?: PyramidSource;
}

/** Where pyramid levels are resized from: see DetectOptions.pyramid. */
export type PyramidSource = 'from-image' | 'from-previous';
