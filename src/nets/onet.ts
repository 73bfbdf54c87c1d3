/**
 * O-Net, the output net: detect_face.py's `ONet.setup()` on a batch of
 * 48 x 48 crops (the TF graph `onet/...` that `onet_fun` feeds).
 * Dimension legend: see ../kernels/shape.ts.
 * @module
 */
import { MtcnnError } from '../errors.ts';
import type { NetWeights } from '../weights/format.ts';
import {
  convLayer,
  fcLayer,
  maxPoolLayer,
  softmaxLayer,
  type Activation,
} from './layers.ts';

/** O-Net's input side: crops are resized to 48 x 48. */
export const ONET_SIZE = 48;

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
  const data: Activation = { data: input, n, h: ONET_SIZE, w: ONET_SIZE, c: 3 };
  let x = convLayer(w, 'conv1', data, 'prelu1'); // (N, 46, 46, 32)
  x = maxPoolLayer(x, 3, 2, 'SAME'); // pool1: (N, 23, 23, 32)
  x = convLayer(w, 'conv2', x, 'prelu2'); // (N, 21, 21, 64)
  x = maxPoolLayer(x, 3, 2, 'VALID'); // pool2: (N, 10, 10, 64)
  x = convLayer(w, 'conv3', x, 'prelu3'); // (N, 8, 8, 64)
  x = maxPoolLayer(x, 2, 2, 'SAME'); // pool3: (N, 4, 4, 64)
  x = convLayer(w, 'conv4', x, 'prelu4'); // (N, 3, 3, 128)
  const features = fcLayer(w, 'conv5', x, 'prelu5'); // (N, 256)
  const prob1 = softmaxLayer(fcLayer(w, 'conv6-1', features)); // (N, 2)
  const reg = fcLayer(w, 'conv6-2', features); // (N, 4)
  const landmarks = fcLayer(w, 'conv6-3', features); // (N, 10)
  return { reg: reg.data, landmarks: landmarks.data, prob: prob1.data };
}
