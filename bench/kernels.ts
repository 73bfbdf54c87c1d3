/**
 * `npm run bench:kernels -- [--rounds N]`: the nets' conv and fc layers as
 * the nets run them (src/nets/layers.ts: 3 x 3 and 2 x 2 convs by Winograd,
 * src/kernels/winograd.ts; the others by conv2d, src/kernels/conv2d.ts) on
 * P-Net's layers at two pyramid levels of bbt1 (1366x768, minsize 20), and on
 * R-Net's and O-Net's layers on crop batches, in GFLOP/s and as a percentage
 * of the scalar peak (peak.ts) measured in the same rounds. Each Winograd
 * layer also runs through conv2d (the direct sum, "direct" rows), for the
 * speed-up in the same rounds.
 *
 * GFLOP/s counts the direct convolution's work, 2 FLOP per multiply-add of
 * KH x KW x C per output (the same count for both kernels, so the ratio of
 * two rows is the ratio of their speeds): for Winograd it is an effective
 * rate, the speed at which it does the direct convolution's work, not the
 * rate of its own arithmetic (4x fewer multiplies, plus its transforms).
 *
 * Every case runs once per round, the peak kernels included, so all see the
 * same machine; times are the process's CPU time (steadier than wall time on
 * a shared machine), as the median over the rounds and as the best round
 * (the least disturbed by other processes' use of the shared caches). The conv layers run as the
 * nets run them: real weights, PReLU fused where the net has one, inputs
 * random in [-1, 1] (the speed does not depend on the values).
 */
import { conv2d, packConv, type PackedConv } from '../src/kernels/conv2d.ts';
import { convLayer, type Activation } from '../src/nets/layers.ts';
import { validOut } from '../src/kernels/shape.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import { computeScales, levelSize } from '../src/pipeline/pyramid.ts';
import type { NetWeights } from '../src/weights/format.ts';
import { computedMacs, winogradTileFor } from './flops.ts';
import { cpuMs, machine, median, table } from './lib.ts';
import { packPeak, peak2x4, peak4x4 } from './peak.ts';

interface Case {
  name: string;
  /** How it runs: 'winograd F(tile,kernel)' (src/kernels/winograd.ts) or 'direct' (conv2d). */
  kernel: string;
  shape: string;
  /** The direct convolution's multiply-adds: what the GFLOP/s columns count. */
  macs: number;
  /** The multiply-adds the kernel performs (Winograd: those of its matrix products, not its transforms). */
  executed: number;
  run: () => void;
  times: number[];
  /** Counted in the "P-Net convs" total. */
  pnet: boolean;
}

let seed = 1;
function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    a[i] = seed / 2 ** 31 - 1;
  }
  return a;
}

const weights = loadWeightsFile();
const cases: Case[] = [];

/**
 * One conv layer of a net, as the net runs it (convLayer), on an (n, h, w, c)
 * input; for a 3 x 3 or 2 x 2 layer (Winograd) also the direct sum (conv2d)
 * on the same input.
 */
function convCase(net: string, w: NetWeights, layer: string, prelu: string | null, n: number, h: number, width: number, pnet = false): void {
  const k = w[`${layer}/weights`];
  const [kh, kw, c, oc] = k.shape;
  const x: Activation = { data: random(n * h * width * c), n, h, w: width, c };
  const oh = validOut(h, kh, 1), ow = validOut(width, kw, 1);
  const name = `${net} ${layer}${prelu ? '+prelu' : ''}`;
  const shape = `${n}x${h}x${width}x${c} * ${kh}x${kw}x${oc}`;
  const macs = n * oh * ow * kh * kw * c * oc;
  const run = () => convLayer(w, layer, x, prelu ?? undefined);
  if (kh === 1) {
    cases.push({ name, kernel: 'direct', shape, macs, executed: macs, run, times: [], pnet });
    return;
  }
  // Winograd's own multiply-adds: its matrix products, with OC in whole blocks of 4 as the kernel computes them.
  const tile = winogradTileFor(kh, oh, ow);
  const executed = n * computedMacs(kh, oh, ow, c, Math.ceil(oc / 4) * 4);
  cases.push({ name, kernel: `winograd F(${tile},${kh})`, shape, macs, executed, run, times: [], pnet });
  // The direct sum on the same input, for the speed-up in the same rounds.
  const packed: PackedConv = packConv(k.data, w[`${layer}/biases`].data, kh, kw, c, oc);
  const alpha = prelu === null ? null : w[`${prelu}/alpha`].data;
  const out = new Float32Array(n * oh * ow * oc);
  cases.push({ name, kernel: 'direct', shape, macs, executed: macs, run: () => conv2d(out, x.data, n, h, width, packed, alpha), times: [], pnet: false });
}

/** fc layers run as 1x1 convs over (1, 1, N, DIN): the same kernel. */
function fcCase(net: string, w: NetWeights, layer: string, prelu: string | null, n: number): void {
  const [din, dout] = w[`${layer}/weights`].shape;
  const packed = packConv(w[`${layer}/weights`].data, w[`${layer}/biases`].data, 1, 1, din, dout);
  const alpha = prelu === null ? null : w[`${prelu}/alpha`].data;
  const x = random(n * din);
  const out = new Float32Array(n * dout);
  cases.push({
    name: `${net} ${layer}${prelu ? '+prelu' : ''} (fc)`,
    kernel: 'direct',
    shape: `${n}x${din} * ${din}x${dout}`,
    macs: n * din * dout,
    executed: n * din * dout,
    run: () => conv2d(out, x, 1, 1, n, packed, alpha),
    times: [],
    pnet: false,
  });
}

// P-Net at bbt1's first and fifth pyramid levels. The pipeline feeds P-Net
// the level transposed, (ws, hs, 3).
const scales = computeScales(768, 1366, 20, 0.709);
for (const level of [0, 4]) {
  const [hs, ws] = levelSize(768, 1366, scales[level]);
  const h1 = ws - 2, w1 = hs - 2; // conv1 output
  const h2 = Math.ceil(h1 / 2), w2 = Math.ceil(w1 / 2); // pool1 (2x2/2 SAME)
  const tag = `P-Net L${level}`;
  convCase(tag, weights.pnet, 'conv1', 'PReLU1', 1, ws, hs, true);
  convCase(tag, weights.pnet, 'conv2', 'PReLU2', 1, h2, w2, true);
  convCase(tag, weights.pnet, 'conv3', 'PReLU3', 1, h2 - 2, w2 - 2, true);
  convCase(tag, weights.pnet, 'conv4-1', null, 1, h2 - 4, w2 - 4, true);
  convCase(tag, weights.pnet, 'conv4-2', null, 1, h2 - 4, w2 - 4, true);
}
// R-Net on 128 crops, O-Net on 32 (sizes after each pool as in rnet.ts / onet.ts).
convCase('R-Net', weights.rnet, 'conv1', 'prelu1', 128, 24, 24);
convCase('R-Net', weights.rnet, 'conv2', 'prelu2', 128, 11, 11);
convCase('R-Net', weights.rnet, 'conv3', 'prelu3', 128, 4, 4);
fcCase('R-Net', weights.rnet, 'conv4', 'prelu4', 128);
convCase('O-Net', weights.onet, 'conv1', 'prelu1', 32, 48, 48);
convCase('O-Net', weights.onet, 'conv2', 'prelu2', 32, 23, 23);
convCase('O-Net', weights.onet, 'conv3', 'prelu3', 32, 10, 10);
convCase('O-Net', weights.onet, 'conv4', 'prelu4', 32, 4, 4);
fcCase('O-Net', weights.onet, 'conv5', 'prelu5', 32);

// The peak: P-Net conv3's channels (16 -> 32) on a 66x66 input (64x64 out), which fits in L2,
// and on a 406x230 input, about P-Net conv3's size at bbt1's first level (the peak kernels
// need OW a multiple of 4).
const peakCases: Case[] = [];
for (const [h, w] of [[66, 66], [406, 230]]) {
  const c = 16, oc = 32;
  const x = random(h * w * c), wp = packPeak(random(9 * c * oc), c, oc), bias = random(oc);
  const out = new Float32Array((h - 2) * (w - 2) * oc);
  const macs = (h - 2) * (w - 2) * 9 * c * oc;
  const shape = `1x${h}x${w}x${c} * 3x3x${oc}`;
  peakCases.push({ name: 'peak 2x4', kernel: 'direct', shape, macs, executed: macs, run: () => peak2x4(out, x, h, w, c, wp, bias, oc), times: [], pnet: false });
  peakCases.push({ name: 'peak 4x4', kernel: 'direct', shape, macs, executed: macs, run: () => peak4x4(out, x, h, w, c, wp, bias, oc), times: [], pnet: false });
}

const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg >= 0 ? Number(process.argv[roundsArg + 1]) : 9;
const all = [...peakCases, ...cases];
for (const k of all) k.run(); // warm-up: compile
for (let r = 0; r < rounds; r++) {
  for (const k of all) {
    const t0 = cpuMs();
    k.run();
    k.times.push(cpuMs() - t0);
  }
}

const gf = (k: Case, pick: (ts: number[]) => number) => (2 * k.macs) / pick(k.times) / 1e6;
const best = (ts: number[]) => Math.min(...ts);
const peak = Math.max(...peakCases.map((k) => gf(k, median)));
const peakBest = Math.max(...peakCases.map((k) => gf(k, best)));
const pnetCases = cases.filter((k) => k.pnet);
const pnetMacs = pnetCases.reduce((a, k) => a + k.macs, 0);
const pnetMs = pnetCases.reduce((a, k) => a + median(k.times), 0);
const pnetBestMs = pnetCases.reduce((a, k) => a + best(k.times), 0);
// The same layers all by the direct sum: the 1 x 1 heads as run, the 3 x 3 layers' direct rows.
const pnetDirect = cases.filter((k) => k.name.startsWith('P-Net') && k.kernel === 'direct');
const pnetDirectMs = pnetDirect.reduce((a, k) => a + median(k.times), 0);
const pnetDirectBestMs = pnetDirect.reduce((a, k) => a + best(k.times), 0);
const pct = (g: number, p: number) => `${((100 * g) / p).toFixed(0)}%`;
const row = (k: Case) => {
  const g = gf(k, median), b = gf(k, best), e = (2 * k.executed) / median(k.times) / 1e6;
  return [k.name, k.kernel, k.shape, ((2 * k.macs) / 1e6).toFixed(1), median(k.times).toFixed(2), g.toFixed(2), pct(g, peak), b.toFixed(2), pct(b, peakBest), ((2 * k.executed) / 1e6).toFixed(1), e.toFixed(2), pct(e, peak)];
};
const pnetGf = (2 * pnetMacs) / pnetMs / 1e6, pnetBestGf = (2 * pnetMacs) / pnetBestMs / 1e6;
const pnetExecuted = pnetCases.reduce((a, k) => a + k.executed, 0);
const pnetExecGf = (2 * pnetExecuted) / pnetMs / 1e6;
const pnetDirectGf = (2 * pnetMacs) / pnetDirectMs / 1e6, pnetDirectBestGf = (2 * pnetMacs) / pnetDirectBestMs / 1e6;
console.log(`mtcnn-ts kernel bench, ${new Date().toISOString()}`);
console.log(machine());
console.log(`${rounds} rounds, CPU time; GFLOP/s = the direct convolution's FLOPs (2 per multiply-add) / time, for Winograd an effective rate; % of the scalar peak = of the fastest peak kernel and shape, medians against medians, best rounds against best rounds`);
console.log(`executed = the multiply-adds the kernel performs (Winograd: its matrix products; its transforms not counted), per median time\n`);
console.log(
  table(['case', 'kernel', 'shape (N x H x W x C * KH x KW x OC)', 'MFLOP', 'ms', 'GFLOP/s', '% peak', 'best GFLOP/s', '% peak (best)', 'executed MFLOP', 'executed GFLOP/s', '% peak'], [
    ...peakCases.map(row),
    ...cases.map(row),
    ['P-Net convs, both levels', 'as run', '', ((2 * pnetMacs) / 1e6).toFixed(1), pnetMs.toFixed(2), pnetGf.toFixed(2), pct(pnetGf, peak), pnetBestGf.toFixed(2), pct(pnetBestGf, peakBest), ((2 * pnetExecuted) / 1e6).toFixed(1), pnetExecGf.toFixed(2), pct(pnetExecGf, peak)],
    ['P-Net convs, both levels', 'direct', '', ((2 * pnetMacs) / 1e6).toFixed(1), pnetDirectMs.toFixed(2), pnetDirectGf.toFixed(2), pct(pnetDirectGf, peak), pnetDirectBestGf.toFixed(2), pct(pnetDirectBestGf, peakBest), ((2 * pnetMacs) / 1e6).toFixed(1), pnetDirectGf.toFixed(2), pct(pnetDirectGf, peak)],
  ]),
);
