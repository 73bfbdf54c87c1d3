/**
 * Multiply-adds of the three nets, counted from their layer shapes (read from
 * the weights, walked in the order of pnet.ts / rnet.ts / onet.ts), so the
 * benchmarks can turn times into GFLOP/s (2 FLOP per multiply-add). Only
 * conv and fc layers count; PReLU, max-pool and softmax are a few percent
 * of the operations and are not counted (their time still is).
 */
import { outSize, validOut, type Padding } from '../src/kernels/shape.ts';
import { winogradTile } from '../src/kernels/winograd.ts';
import type { MtcnnWeights, NetWeights } from '../src/weights/format.ts';

type Layer = { conv: string } | { pool: [k: number, s: number, padding: Padding] } | { fc: string };

const PNET: Layer[] = [
  { conv: 'conv1' }, { pool: [2, 2, 'SAME'] }, { conv: 'conv2' }, { conv: 'conv3' }, { conv: 'conv4-1' }, { conv: 'conv4-2' },
];
const RNET: Layer[] = [
  { conv: 'conv1' }, { pool: [3, 2, 'SAME'] }, { conv: 'conv2' }, { pool: [3, 2, 'VALID'] }, { conv: 'conv3' },
  { fc: 'conv4' }, { fc: 'conv5-1' }, { fc: 'conv5-2' },
];
const ONET: Layer[] = [
  { conv: 'conv1' }, { pool: [3, 2, 'SAME'] }, { conv: 'conv2' }, { pool: [3, 2, 'VALID'] }, { conv: 'conv3' },
  { pool: [2, 2, 'SAME'] }, { conv: 'conv4' }, { fc: 'conv5' }, { fc: 'conv6-1' }, { fc: 'conv6-2' }, { fc: 'conv6-3' },
];

/**
 * The output tile Winograd uses for a k x k conv with an oh x ow output
 * (src/kernels/winograd.ts: 3 x 3 in tiles of winogradTile's choice, 2 x 2
 * in tiles of 3), or null for a kernel it does not run.
 */
export function winogradTileFor(k: number, oh: number, ow: number): number | null {
  return k === 3 ? winogradTile(oh, ow) : k === 2 ? 3 : null;
}

/**
 * The multiply-adds of Winograd's matrix products for one k x k conv with an
 * oh x ow output (its transforms not counted), or of the direct sum for a
 * kernel Winograd does not run.
 */
export function computedMacs(k: number, oh: number, ow: number, c: number, oc: number): number {
  const tile = winogradTileFor(k, oh, ow);
  if (tile === null) return oh * ow * k * k * c * oc;
  return Math.ceil(oh / tile) * Math.ceil(ow / tile) * (tile + k - 1) ** 2 * c * oc;
}

/**
 * Per-layer multiply-adds of one net on one h x w input, in order: `macs`
 * of the layer's definition (the direct sum), `computed` as this project
 * computes it (Winograd's products for the 3 x 3 and 2 x 2 convs).
 */
export function layerMacs(w: NetWeights, layers: Layer[], h: number, width: number): { name: string; macs: number; computed: number }[] {
  const out: { name: string; macs: number; computed: number }[] = [];
  let trunkH = h, trunkW = width; // the feature map the next layer reads
  for (const l of layers) {
    if ('pool' in l) {
      trunkH = outSize(trunkH, l.pool[0], l.pool[1], l.pool[2]);
      trunkW = outSize(trunkW, l.pool[0], l.pool[1], l.pool[2]);
    } else if ('conv' in l) {
      const [kh, kw, c, oc] = w[`${l.conv}/weights`].shape;
      const oh = validOut(trunkH, kh, 1), ow = validOut(trunkW, kw, 1);
      out.push({ name: l.conv, macs: oh * ow * kh * kw * c * oc, computed: computedMacs(kh, oh, ow, c, oc) });
      // P-Net's two heads are 1x1 convs that both read conv3's output: the map stays
      if (!(kh === 1 && kw === 1)) {
        trunkH = oh;
        trunkW = ow;
      }
    } else {
      const [din, dout] = w[`${l.fc}/weights`].shape;
      out.push({ name: l.fc, macs: din * dout, computed: din * dout });
    }
  }
  return out;
}

const sum = (ls: { macs: number }[]) => ls.reduce((a, l) => a + l.macs, 0);

/** P-Net's multiply-adds on one (h, w) input (the pipeline feeds it the level transposed: h = level width). */
export const pnetMacs = (w: MtcnnWeights, h: number, width: number) => sum(layerMacs(w.pnet, PNET, h, width));
/** R-Net's multiply-adds per 24x24 crop. */
export const rnetMacs = (w: MtcnnWeights) => sum(layerMacs(w.rnet, RNET, 24, 24));
/** O-Net's multiply-adds per 48x48 crop. */
export const onetMacs = (w: MtcnnWeights) => sum(layerMacs(w.onet, ONET, 48, 48));

const sumComputed = (ls: { computed: number }[]) => ls.reduce((a, l) => a + l.computed, 0);

/** The same three counts as this project computes them: Winograd's products for the 3 x 3 and 2 x 2 convs. */
export const pnetComputedMacs = (w: MtcnnWeights, h: number, width: number) => sumComputed(layerMacs(w.pnet, PNET, h, width));
export const rnetComputedMacs = (w: MtcnnWeights) => sumComputed(layerMacs(w.rnet, RNET, 24, 24));
export const onetComputedMacs = (w: MtcnnWeights) => sumComputed(layerMacs(w.onet, ONET, 48, 48));
