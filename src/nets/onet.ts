/**
 * O-Net, the output net: detect_face.py's `ONet.setup()` on a batch of
 * 48 x 48 crops (the TF graph `onet/...` that `onet_fun` feeds), run in
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

/** O-Net's input side: crops are resized to 48 x 48. */
export const ONET_SIZE = 48;

/** Crops run through the whole net together (see forEachChunk): conv1's output for 8 crops is 2.2 MB. */
const ONET_CHUNK = 8;

export interface OnetOutput {
  reg: Float32Array; // (N, 4) f32: conv6-2, box regression
  landmarks: Float32Array; // (N, 10) f32: conv6-3, x1..x5 then y1..y5 (crop-relative)
  prob: Float32Array; // (N, 2) f32: prob1, softmax (not face, face)
}

/**
 * @param w det3 tensors
 * @param input (N, 48, 48, 3) NHWC f32
 */
export function onet(w: NetWeights, input: Float32Array, n: number): OnetOutput {
  if (input.length !== n * ONET_SIZE * ONET_SIZE * 3) {
    throw new MtcnnError('BAD_IMAGE', `onet: input of length ${input.length} is not (${n}, 48, 48, 3)`);
  }
  const reg = new Float32Array(n * 4);
  const landmarks = new Float32Array(n * 10);
  const prob = new Float32Array(n * 2);
  forEachChunk(n, ONET_CHUNK, (from, count) => {
    let x = convLayer(w, 'conv1', cropsAt(input, from, count, ONET_SIZE), 'prelu1'); // (N, 46, 46, 32)
    x = maxPoolLayer(x, 3, 2, 'SAME'); // pool1: (N, 23, 23, 32)
    x = convLayer(w, 'conv2', x, 'prelu2'); // (N, 21, 21, 64)
    x = maxPoolLayer(x, 3, 2, 'VALID'); // pool2: (N, 10, 10, 64)
    x = convLayer(w, 'conv3', x, 'prelu3'); // (N, 8, 8, 64)
    x = maxPoolLayer(x, 2, 2, 'SAME'); // pool3: (N, 4, 4, 64)
    x = convLayer(w, 'conv4', x, 'prelu4'); // (N, 3, 3, 128)
    const features = fcLayer(w, 'conv5', x, 'prelu5'); // (N, 256)
    prob.set(softmaxLayer(fcLayer(w, 'conv6-1', features)).data, from * 2); // (N, 2)
    reg.set(fcLayer(w, 'conv6-2', features).data, from * 4); // (N, 4)
    landmarks.set(fcLayer(w, 'conv6-3', features).data, from * 10); // (N, 10)
  });
  return { reg, landmarks, prob };
}
