/**
 * P-Net, the proposal net: detect_face.py's `PNet.setup()` run on one image
 * (the TF graph `pnet/...` that create_mtcnn() builds and `pnet_fun` feeds).
 * Fully convolutional: any H, W >= 12 gives an OH x OW map, one cell per
 * 12 x 12 window at stride 2. It runs TF's semantics on whatever NHWC tensor
 * it gets; the W x H transposes of detect_face() belong to the pipeline.
 * Dimension legend: see ../kernels/shape.ts.
 * @module
 */
import { MtcnnError } from '../errors.ts';
import type { NetWeights } from '../weights/format.ts';
import {
  convLayer,
  maxPoolLayer,
  softmaxLayer,
  type Activation,
} from './layers.ts';

/** P-Net's receptive field: the smallest input that gives one output cell. */
export const PNET_MIN_SIZE = 12;

export interface PnetOutput {
  reg: Float32Array; // (OH, OW, 4) f32: conv4-2, box regression dx1 dy1 dx2 dy2
  prob: Float32Array; // (OH, OW, 2) f32: prob1, softmax (not face, face)
  oh: number;
  ow: number;
}

/**
 * @param w det1 tensors
 * @param input (H, W, 3) NHWC f32, one image (the batch of 1 detect_face feeds)
 */
export function pnet(w: NetWeights, input: Float32Array, h: number, width: number): PnetOutput {
  if (!(h >= PNET_MIN_SIZE && width >= PNET_MIN_SIZE) || input.length !== h * width * 3) {
    throw new MtcnnError(
      'BAD_IMAGE',
      `pnet: input of length ${input.length} is not (${h}, ${width}, 3) with h, w >= ${PNET_MIN_SIZE}`,
    );
  }
  const data: Activation = { data: input, n: 1, h, w: width, c: 3 };
  let x = convLayer(w, 'conv1', data, 'PReLU1'); // (H-2, W-2, 10)
  x = maxPoolLayer(x, 2, 2, 'SAME'); // pool1
  x = convLayer(w, 'conv2', x, 'PReLU2'); // 16 channels
  const features = convLayer(w, 'conv3', x, 'PReLU3'); // (OH, OW, 32)
  const prob1 = softmaxLayer(convLayer(w, 'conv4-1', features)); // (OH, OW, 2)
  const reg = convLayer(w, 'conv4-2', features); // (OH, OW, 4)
  return { reg: reg.data, prob: prob1.data, oh: reg.h, ow: reg.w };
}
