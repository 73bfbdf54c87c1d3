/**
 * Output sizes and padding of TensorFlow's stride/padding modes, the one
 * source of truth for kernels, nets and tests (TF's `conv2d` / `max_pool`
 * with padding 'VALID' or 'SAME'; `_same_pads` in tools/nets_numpy.py is the
 * Python twin).
 *
 * Dimension legend used throughout src/kernels/ and src/nets/:
 *   N  batch (images or crops)        H, W   input height, width
 *   C  input channels                 OH, OW output height, width
 *   OC output channels                KH, KW kernel height, width
 *   K  pool window (square)           S      stride
 *   DIN, DOUT  fc input / output features (DIN = H * W * C, flattened NHWC)
 * Activations are NHWC float32, conv kernels HWIO (KH, KW, C, OC), fc weights
 * (DIN, DOUT).
 * @module
 */

export type Padding = 'VALID' | 'SAME';

/** Output length along one axis with 'VALID' padding: the windows that fit inside. */
export function validOut(n: number, k: number, s: number): number {
  return Math.floor((n - k) / s) + 1;
}

/** Output length along one axis with 'SAME' padding: ceil(n / s), whatever k is. */
export function sameOut(n: number, s: number): number {
  return Math.ceil(n / s);
}

/** Output length along one axis for either padding. */
export function outSize(n: number, k: number, s: number, padding: Padding): number {
  return padding === 'SAME' ? sameOut(n, s) : validOut(n, k, s);
}

/** Padding before and after one axis. */
export interface Pads {
  before: number;
  after: number;
}

/**
 * TF 'SAME' padding along one axis: the total needed for ceil(n / s) windows
 * of size k, the smaller half before and the larger after (so an odd total
 * puts its extra element at the end, unlike Caffe's symmetric pads).
 */
export function samePads(n: number, k: number, s: number): Pads {
  const total = Math.max((sameOut(n, s) - 1) * s + k - n, 0);
  const before = Math.floor(total / 2);
  return { before, after: total - before };
}

/** Padding along one axis for either mode ('VALID' pads nothing). */
export function pads(n: number, k: number, s: number, padding: Padding): Pads {
  return padding === 'SAME' ? samePads(n, k, s) : { before: 0, after: 0 };
}
