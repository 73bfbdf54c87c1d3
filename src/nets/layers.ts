/**
 * The layer methods of detect_face.py's `Network` class (`conv`, `prelu`,
 * `max_pool`, `fc`, `softmax`) as glue over the kernels: each looks up its
 * tensors by the layer's name, sizes and allocates its output, and runs one
 * kernel. The nets (pnet.ts, rnet.ts, onet.ts) chain these in the order of
 * PNet/RNet/ONet.setup(). Every layer returns a new activation except
 * `preluLayer`, which works in place as TF's graph could.
 * Dimension legend: see ../kernels/shape.ts.
 * @module
 */
import { MtcnnError } from '../errors.ts';
import { conv2d, packConvWeights, packedConvLength } from '../kernels/conv2d.ts';
import { dense, packDenseWeights, packedDenseLength } from '../kernels/dense.ts';
import { maxpool } from '../kernels/maxpool.ts';
import { prelu } from '../kernels/prelu.ts';
import { outSize, validOut, type Padding } from '../kernels/shape.ts';
import { softmax } from '../kernels/softmax.ts';
import type { NetWeights, Tensor } from '../weights/format.ts';

/** An activation and its shape; fc layers give h = w = 1, c = features. */
export interface Activation {
  data: Float32Array; // (n, h, w, c) NHWC f32
  n: number;
  h: number;
  w: number;
  c: number;
}

/** The tensor `layer/param` of a net, as det*.npy names it. */
function param(weights: NetWeights, layer: string, name: string): Tensor {
  const t = weights[`${layer}/${name}`];
  if (t === undefined) throw new MtcnnError('BAD_WEIGHTS', `missing tensor '${layer}/${name}'`);
  return t;
}

/** `Network.conv(kh, kw, oc, 1, 1, padding='VALID', relu=False)`: stride-1 VALID conv plus bias. */
export function convLayer(weights: NetWeights, layer: string, x: Activation): Activation {
  const kernel = param(weights, layer, 'weights'); // (KH, KW, C, OC) HWIO
  const bias = param(weights, layer, 'biases').data; // (OC,)
  const kh = kernel.shape[0];
  const kw = kernel.shape[1];
  const oc = kernel.shape[3];
  // Repacked on each call: at most 37k values here (O-Net conv3), negligible
  // next to the convolution, and it keeps the nets free of cached state.
  const packed = new Float32Array(packedConvLength(kh, kw, x.c, oc)); // (ceil(OC/4), KH, KW, C, 4)
  packConvWeights(packed, kernel.data, kh, kw, x.c, oc);
  const oh = validOut(x.h, kh, 1);
  const ow = validOut(x.w, kw, 1);
  const out = new Float32Array(x.n * oh * ow * oc); // (N, OH, OW, OC) NHWC
  conv2d(out, x.data, x.n, x.h, x.w, x.c, packed, bias, kh, kw, oc);
  return { data: out, n: x.n, h: oh, w: ow, c: oc };
}

/** `Network.prelu`: per-channel PReLU, in place; returns x. */
export function preluLayer(weights: NetWeights, layer: string, x: Activation): Activation {
  prelu(x.data, x.n * x.h * x.w * x.c, param(weights, layer, 'alpha').data, x.c);
  return x;
}

/** `Network.max_pool(k, k, s, s, padding)`. */
export function maxPoolLayer(x: Activation, k: number, s: number, padding: Padding): Activation {
  const oh = outSize(x.h, k, s, padding);
  const ow = outSize(x.w, k, s, padding);
  const out = new Float32Array(x.n * oh * ow * x.c); // (N, OH, OW, C) NHWC
  maxpool(out, x.data, x.n, x.h, x.w, x.c, k, s, padding);
  return { data: out, n: x.n, h: oh, w: ow, c: x.c };
}

/** `Network.fc(dout, relu=False)`: flattens each (h, w, c) item, then x W + b. */
export function fcLayer(weights: NetWeights, layer: string, x: Activation): Activation {
  const w = param(weights, layer, 'weights'); // (DIN, DOUT)
  const bias = param(weights, layer, 'biases').data; // (DOUT,)
  const din = x.h * x.w * x.c;
  const dout = w.shape[1];
  // Repacked on each call, like conv weights (at most 295k values, O-Net conv5).
  const packed = new Float32Array(packedDenseLength(din, dout)); // (ceil(DOUT/4), DIN, 4)
  packDenseWeights(packed, w.data, din, dout);
  const out = new Float32Array(x.n * dout); // (N, DOUT)
  dense(out, x.data, x.n, din, packed, bias, dout);
  return { data: out, n: x.n, h: 1, w: 1, c: dout };
}

/** `Network.softmax(axis)` over the channel axis (P-Net's axis 3, R/O-Net's axis 1). */
export function softmaxLayer(x: Activation): Activation {
  const out = new Float32Array(x.data.length); // same shape as x
  softmax(out, x.data, x.n * x.h * x.w, x.c);
  return { data: out, n: x.n, h: x.h, w: x.w, c: x.c };
}
