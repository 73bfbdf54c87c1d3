/**
 * The tensors each net needs, in forward order: the equivalent of the `setup()`
 * methods of PNet, RNet and ONet in facenet's src/align/detect_face.py, where
 * every `conv`/`fc` layer makes `weights` and `biases` variables and every
 * `prelu` layer an `alpha` variable, under the layer's name. det1/2/3.npy hold
 * exactly these (`Network.load` assigns each of them to its variable).
 *
 * Keys are `layer/param`, spelled as in det*.npy (P-Net says `PReLU1`, R-Net
 * and O-Net say `prelu1`). Shapes are TensorFlow's: conv kernels HWIO
 * (kh, kw, in, out); fc weights (in, out) with `in` the NHWC-flattened
 * (h, w, c) input; biases and alphas (channels,).
 * @module
 */
import { MtcnnError } from '../errors.ts';
import type { NetName } from './format.ts';

export type ParamName = 'weights' | 'biases' | 'alpha';

export interface TensorSpec {
  readonly layer: string;
  readonly param: ParamName;
  readonly shape: readonly number[];
}

export interface NetSpec {
  readonly net: NetName;
  /** The facenet file the tensors come from (beside detect_face.py). */
  readonly source: string;
  readonly tensors: readonly TensorSpec[];
}

/** A conv or fc layer's two tensors: `weights` of `shape`, `biases` of its last dimension. */
function affine(layer: string, shape: readonly number[]): TensorSpec[] {
  return [
    { layer, param: 'weights', shape },
    { layer, param: 'biases', shape: [shape[shape.length - 1]] },
  ];
}

/** A PReLU layer's one tensor: a slope per channel. */
function prelu(layer: string, channels: number): TensorSpec {
  return { layer, param: 'alpha', shape: [channels] };
}

/** Every net, in the order detect_face() runs them. Comments quote the detect_face.py layer. */
export const SCHEMA: readonly NetSpec[] = [
  {
    net: 'pnet',
    source: 'det1.npy',
    tensors: [
      ...affine('conv1', [3, 3, 3, 10]), // conv(3, 3, 10, 1, 1, padding='VALID', name='conv1')
      prelu('PReLU1', 10), //                prelu(name='PReLU1'), then max_pool 2x2/2 (no tensors)
      ...affine('conv2', [3, 3, 10, 16]), // conv(3, 3, 16, ..., name='conv2')
      prelu('PReLU2', 16),
      ...affine('conv3', [3, 3, 16, 32]), // conv(3, 3, 32, ..., name='conv3')
      prelu('PReLU3', 32),
      ...affine('conv4-1', [1, 1, 32, 2]), // conv(1, 1, 2, ..., name='conv4-1'): face or not, softmax
      ...affine('conv4-2', [1, 1, 32, 4]), // conv(1, 1, 4, ..., name='conv4-2'): boxes, from PReLU3
    ],
  },
  {
    net: 'rnet',
    source: 'det2.npy',
    tensors: [
      ...affine('conv1', [3, 3, 3, 28]), // conv(3, 3, 28, ..., name='conv1')
      prelu('prelu1', 28), //               then max_pool 3x3/2 SAME
      ...affine('conv2', [3, 3, 28, 48]), // conv(3, 3, 48, ..., name='conv2')
      prelu('prelu2', 48), //               then max_pool 3x3/2 VALID
      ...affine('conv3', [2, 2, 48, 64]), // conv(2, 2, 64, ..., name='conv3'): 3x3x64 out
      prelu('prelu3', 64),
      ...affine('conv4', [576, 128]), //    fc(128, name='conv4'): 576 = 3 * 3 * 64 flattened
      prelu('prelu4', 128),
      ...affine('conv5-1', [128, 2]), //    fc(2, name='conv5-1'): face / not face, then softmax
      ...affine('conv5-2', [128, 4]), //    fc(4, name='conv5-2'): box regression, from prelu4
    ],
  },
  {
    net: 'onet',
    source: 'det3.npy',
    tensors: [
      ...affine('conv1', [3, 3, 3, 32]), // conv(3, 3, 32, ..., name='conv1')
      prelu('prelu1', 32), //               then max_pool 3x3/2 SAME
      ...affine('conv2', [3, 3, 32, 64]), // conv(3, 3, 64, ..., name='conv2')
      prelu('prelu2', 64), //               then max_pool 3x3/2 VALID
      ...affine('conv3', [3, 3, 64, 64]), // conv(3, 3, 64, ..., name='conv3')
      prelu('prelu3', 64), //               then max_pool 2x2/2 SAME
      ...affine('conv4', [2, 2, 64, 128]), // conv(2, 2, 128, ..., name='conv4'): 3x3x128 out
      prelu('prelu4', 128),
      ...affine('conv5', [1152, 256]), //   fc(256, name='conv5'): 1152 = 3 * 3 * 128 flattened
      prelu('prelu5', 256),
      ...affine('conv6-1', [256, 2]), //    fc(2, name='conv6-1'): face / not face, then softmax
      ...affine('conv6-2', [256, 4]), //    fc(4, name='conv6-2'): box regression, from prelu5
      ...affine('conv6-3', [256, 10]), //   fc(10, name='conv6-3'): 5 landmarks, from prelu5
    ],
  },
];

/** The `layer/param` key under which a tensor is stored and looked up. */
export function tensorKey(layer: string, param: string): string {
  return `${layer}/${param}`;
}

/**
 * Throws BAD_WEIGHTS unless `shapes` (`layer/param` -> shape) holds exactly
 * the tensors of `spec`, each with its shape. `where` starts every message
 * (a file or a net), so the reader knows which input is wrong.
 */
export function checkAgainstSchema(
  spec: NetSpec,
  shapes: ReadonlyMap<string, readonly number[]>,
  where: string,
): void {
  const expected = new Set<string>();
  for (const t of spec.tensors) {
    const key = tensorKey(t.layer, t.param);
    expected.add(key);
    const shape = shapes.get(key);
    if (shape === undefined) {
      const needs = `${spec.net} needs shape ${showShape(t.shape)}`;
      throw new MtcnnError('BAD_WEIGHTS', `${where}: missing tensor ${key} (${needs})`);
    }
    if (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i])) {
      throw new MtcnnError(
        'BAD_WEIGHTS',
        `${where}: tensor ${key} has shape ${showShape(shape)}, ${spec.net} needs ${showShape(t.shape)}`,
      );
    }
  }
  for (const key of shapes.keys()) {
    if (!expected.has(key)) {
      const why = `${spec.net} has no such layer/param`;
      throw new MtcnnError('BAD_WEIGHTS', `${where}: unexpected tensor ${key} (${why})`);
    }
  }
}

export function showShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
