/**
 * R-Net, the refinement net: detect_face.py's `RNet.setup()` on a batch of
 * 24 x 24 crops (the TF graph `rnet/...` that `rnet_fun` feeds), run in
 * chunks of crops (each crop's outputs depend on that crop alone).
 * Dimension legend: see ../kernels/shape.ts.
 * @module
 */
import { MtcnnError } from '../errors.ts';
import type { NetWeights } from '../weights/format.ts';
import {
  convLayer,
  cropsAt,
  fcLayer,
  forEachChunk,
  maxPoolLayer,
  softmaxLayer,
} from './layers.ts';

/** R-Net's input side: crops are resized to 24 x 24. */
export const RNET_SIZE = 24;

/**
 * Crops run through the whole net together (see forEachChunk): conv1's
 * output for 32 crops is 1.7 MB, near a core's L2 and L3 share.
 */
const RNET_CHUNK = 32;

export interface RnetOutput {
  reg: Float32Array; // (N, 4) f32: conv5-2, box regression
  prob: Float32Array; // (N, 2) f32: prob1, softmax (not face, face)
}

/**
 * @param w det2 tensors
 * @param input (N, 24, 24, 3) NHWC f32
 */
export function rnet(w: NetWeights, input: Float32Array, n: number): RnetOutput {
  if (input.length !== n * RNET_SIZE * RNET_SIZE * 3) {
    throw new MtcnnError('BAD_IMAGE', `rnet: input of length ${input.length} is not (${n}, 24, 24, 3)`);
  }
  const reg = new Float32Array(n * 4);
  const prob = new Float32Array(n * 2);
  forEachChunk(n, RNET_CHUNK, (from, count) => {
    let x = convLayer(w, 'conv1', cropsAt(input, from, count, RNET_SIZE), 'prelu1'); // (N, 22, 22, 28)
    x = maxPoolLayer(x, 3, 2, 'SAME'); // pool1: (N, 11, 11, 28)
    x = convLayer(w, 'conv2', x, 'prelu2'); // (N, 9, 9, 48)
    x = maxPoolLayer(x, 3, 2, 'VALID'); // pool2: (N, 4, 4, 48)
    x = convLayer(w, 'conv3', x, 'prelu3'); // (N, 3, 3, 64)
    const features = fcLayer(w, 'conv4', x, 'prelu4'); // (N, 128)
    prob.set(softmaxLayer(fcLayer(w, 'conv5-1', features)).data, from * 2); // (N, 2)
    reg.set(fcLayer(w, 'conv5-2', features).data, from * 4); // (N, 4)
  });
  return { reg, prob };
}
