/**
 * The layer methods of detect_face.py's `Network` class (`conv`, `prelu`,
 * `max_pool`, `fc`, `softmax`) as glue over the kernels: each looks up its
 * tensors by the layer's name, sizes and allocates its output, and runs one
 * kernel. The nets (pnet.ts, rnet.ts, onet.ts) chain these in the order of
 * PNet/RNet/ONet.setup(). A conv or fc layer followed by its PReLU runs as
 * one kernel call (the kernels apply PReLU as they store: the same values as
 * the two passes, without the second pass over the output).
 * Dimension legend: see ../kernels/shape.ts.
 * @module
 */
import { MtcnnError } from '../errors.ts';
import { conv2d, packConv, type PackedConv } from '../kernels/conv2d.ts';
import { dense, packDense } from '../kernels/dense.ts';
import {
  conv2x2Winograd,
  conv3x3Winograd,
  packWinograd,
  packWinograd2x2,
  type PackedWinograd,
  type PackedWinograd2x2,
} from '../kernels/winograd.ts';
import { maxpool } from '../kernels/maxpool.ts';
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

/**
 * Packed layers, keyed on the kernel tensor they were packed from: each
 * layer is packed on its first use and reused by every later call with the
 * same weights object (a Detector's), and dropped with it. Repacking on
 * every call cost about 4 ms a detection (CPU time, Node 20: R-Net's and
 * O-Net's layers 4 ms, P-Net's 0.06 ms a level): 2% of a 250x250 photo's
 * detection, 0.1% of bbt1's.
 */
type Packed = PackedConv | PackedWinograd | PackedWinograd2x2;
const packed = new WeakMap<Tensor, Packed>();

/** The layer's kernel, checked to take `din` input values per output. */
function kernelOf(weights: NetWeights, layer: string, din: number, taps: (s: number[]) => number): Tensor {
  const kernel = param(weights, layer, 'weights'); // conv (KH, KW, C, OC) HWIO; fc (DIN, DOUT)
  if (taps(kernel.shape) !== din) {
    throw new MtcnnError('BAD_WEIGHTS', `${layer}: weights of shape [${kernel.shape}] do not take ${din} input values`);
  }
  return kernel;
}

function packedOnce<P extends Packed>(kernel: Tensor, pack: () => P): P {
  let p = packed.get(kernel) as P | undefined;
  if (p === undefined) {
    p = pack();
    packed.set(kernel, p);
  }
  return p;
}

/**
 * `Network.conv(kh, kw, oc, 1, 1, padding='VALID', relu=False)`: stride-1 VALID
 * conv plus bias; followed by `Network.prelu(name=prelu)` when prelu is given.
 * 3 x 3 and 2 x 2 kernels (all but P-Net's 1 x 1 heads) run through
 * Winograd's minimal filtering (../kernels/winograd.ts), the others through
 * the direct sum (../kernels/conv2d.ts); both give the same float32 outputs.
 */
export function convLayer(weights: NetWeights, layer: string, x: Activation, prelu?: string): Activation {
  const kernel = kernelOf(weights, layer, x.c, (s) => s[2]);
  const [kh, kw, c, oc] = kernel.shape;
  const bias = param(weights, layer, 'biases').data; // (OC,)
  const oh = validOut(x.h, kh, 1);
  const ow = validOut(x.w, kw, 1);
  const out = new Float32Array(x.n * oh * ow * oc); // (N, OH, OW, OC) NHWC
  const alpha = prelu === undefined ? null : param(weights, prelu, 'alpha').data;
  if (kh === 3 && kw === 3) {
    const p = packedOnce(kernel, () => packWinograd(kernel.data, bias, c, oc));
    conv3x3Winograd(out, x.data, x.n, x.h, x.w, p, alpha);
  } else if (kh === 2 && kw === 2) {
    const p = packedOnce(kernel, () => packWinograd2x2(kernel.data, bias, c, oc));
    conv2x2Winograd(out, x.data, x.n, x.h, x.w, p, alpha);
  } else {
    const p = packedOnce(kernel, () => packConv(kernel.data, bias, kh, kw, c, oc));
    conv2d(out, x.data, x.n, x.h, x.w, p, alpha);
  }
  return { data: out, n: x.n, h: oh, w: ow, c: oc };
}

/** `Network.max_pool(k, k, s, s, padding)`. */
export function maxPoolLayer(x: Activation, k: number, s: number, padding: Padding): Activation {
  const oh = outSize(x.h, k, s, padding);
  const ow = outSize(x.w, k, s, padding);
  const out = new Float32Array(x.n * oh * ow * x.c); // (N, OH, OW, C) NHWC
  maxpool(out, x.data, x.n, x.h, x.w, x.c, k, s, padding);
  return { data: out, n: x.n, h: oh, w: ow, c: x.c };
}

/**
 * `Network.fc(dout, relu=False)`: flattens each (h, w, c) item, then x W + b;
 * followed by `Network.prelu(name=prelu)` when prelu is given.
 */
export function fcLayer(weights: NetWeights, layer: string, x: Activation, prelu?: string): Activation {
  const kernel = kernelOf(weights, layer, x.h * x.w * x.c, (s) => s[0]);
  const p = packedOnce(kernel, () => packDense(kernel.data, param(weights, layer, 'biases').data, kernel.shape[0], kernel.shape[1]));
  const out = new Float32Array(x.n * p.oc); // (N, DOUT)
  const alpha = prelu === undefined ? null : param(weights, prelu, 'alpha').data;
  dense(out, x.data, x.n, p, alpha);
  return { data: out, n: x.n, h: 1, w: 1, c: p.oc };
}

/** `Network.softmax(axis)` over the channel axis (P-Net's axis 3, R/O-Net's axis 1). */
export function softmaxLayer(x: Activation): Activation {
  const out = new Float32Array(x.data.length); // same shape as x
  softmax(out, x.data, x.n * x.h * x.w, x.c);
  return { data: out, n: x.n, h: x.h, w: x.w, c: x.c };
}

/**
 * Runs `step(from, count)` over [0, n) in runs of at most `chunk` items.
 * R-Net and O-Net take their crops this way, all layers on one run before
 * the next: each crop's outputs depend on that crop alone (every layer
 * treats the batch dimension independently), so the results are those of
 * one batch, while each layer's activations stay small enough for the
 * caches. A batch of 1,422 crops (bbt1) would otherwise stream R-Net's
 * 77 MB conv1 output through memory, and two worker threads
 * (ParallelDetector) would contend for its bandwidth.
 */
export function forEachChunk(n: number, chunk: number, step: (from: number, count: number) => void): void {
  for (let from = 0; from < n; from += chunk) step(from, Math.min(chunk, n - from));
}

/** Crops [from, from + count) of an (N, size, size, 3) NHWC batch, as an activation (a view, no copy). */
export function cropsAt(input: Float32Array, from: number, count: number, size: number): Activation {
  const plane = size * size * 3;
  return { data: input.subarray(from * plane, (from + count) * plane), n: count, h: size, w: size, c: 3 };
}
