/**
 * Two traces in the golden format (../shared/mtcnn/README.md, "golden/"),
 * compared call by call: the golden replay (test/golden.test.ts) compares this
 * project's trace with the reference's, `mtcnn diff` any two trace folders.
 * The walk stops at the first difference beyond tolerance and says where it is.
 *
 * Per array, by what the two sides hold:
 * - both kept as files: values compared with the tolerance of their kind
 *   (`kindOf`: exact, net output, or downstream of a net);
 * - a digest on either side: equal digests mean equal arrays; different
 *   digests are a difference where the values must be exact, and otherwise
 *   "not comparable" (the values may still agree within tolerance).
 *
 * Near-ties. Two nets agree to about 1e-6, not bit for bit, so two candidates
 * whose scores differ by less than that can come out of an nms in the other
 * order (bbt1 has one such pair, 6e-7 apart). That is the only reordering
 * allowed: the same boxes must be picked, and A's order, read in B's scores,
 * must be descending to within 2 * NET_ABS. From there on arrays indexed by
 * candidate are compared row to matching row (crops and digests of such
 * arrays cannot be, and are reported so), until a later nms restores B's order.
 *
 * Tolerances are relative to B (netDownstreamTol scales with B's value): B
 * is the reference side. Runtime-neutral: arrays come through TraceSource.load.
 * @module
 */
import type { TraceFn } from '../pipeline/trace.ts';
import { toNumbers, type NpyArray } from './npy.ts';
import { STEP_NOTES } from './step-notes.ts';
import { NET_ABS, netDownstreamTol } from './tolerances.ts';
import { TRACE_ARRAYS, type ArrayRecord, type CallRecord, type TraceJson } from './trace-format.ts';

/** One side of a comparison: its parsed trace.json and a way to read the .npy files it names. */
export interface TraceSource {
  /** How messages name this side ("A", "ours", "reference"). */
  label: string;
  /** trace.json as parsed; checked here before use. */
  json: unknown;
  /** The array stored in `file` (a name trace.json gives); throws when it cannot be read. */
  load(file: string): NpyArray;
}

export interface CompareOptions {
  /**
   * Require both sides to keep the same arrays as files. The golden replay
   * sets it (our traces must follow generate.py's rules); otherwise an array
   * kept on one side only is compared by digest.
   */
  sameFiles?: boolean;
}

/**
 * How an array may differ between two faithful runs. Values that depend on a
 * net's float32 output only through comparisons and np.fix (pyramid images,
 * crops, picks, pad indices, box corners) are exact; net outputs carry
 * NET_ABS; coordinates moved by a regression carry NET_ABS times the box size.
 */
export type Kind = 'exact' | 'net' | 'downstream';

export function kindOf(call: { fn: TraceFn; stage: string }, key: string): Kind {
  switch (call.fn) {
    case 'imresample':
      return 'exact';
    case 'pad':
      return key === 'total_boxes' ? 'net' : 'exact'; // its score column is a net output
    case 'nms':
      return key === 'pick' ? 'exact' : call.stage === 'stage1' ? 'net' : 'downstream';
    case 'pnet':
    case 'rnet':
    case 'onet':
      return key === 'in' ? 'exact' : 'net';
    case 'generateBoundingBox':
      return 'net'; // corners are np.fix of cell positions (exact); score and regressions are net outputs
    default:
      return key === 'reg' ? 'net' : 'downstream'; // rerec, bbreg
  }
}

/** Arrays whose first axis runs over the current candidates (after the stage-1 merge). */
function isPerCandidate(call: CallRecord, key: string): boolean {
  if (call.stage === 'stage1') return false;
  if (call.fn === 'imresample') return false;
  return !(call.fn === 'nms' && key === 'pick');
}

export const toleranceOf = (kind: Kind, expected: number) =>
  kind === 'exact' ? 0 : kind === 'net' ? NET_ABS : netDownstreamTol(expected);

const TOLERANCE_TEXT: Record<Kind, string> = {
  exact: 'exact (|diff| = 0)',
  net: `net output, |diff| <= ${NET_ABS.toExponential()}`,
  downstream: `downstream of a net, |diff| <= ${NET_ABS.toExponential()} * (1 + |B|)`,
};

/**
 * What became of one array: equal values, values within tolerance, equal
 * digests, digests that differ where values may differ (not comparable),
 * not compared because rows are in another order (crops, digests), or different.
 */
export type Outcome = 'equal' | 'within' | 'digest' | 'not-comparable' | 'reordered' | 'different';

export interface ArrayResult {
  key: string;
  outcome: Outcome;
  /** Largest |A - B| among the values compared (0 when compared by digest or not at all). */
  maxDiff: number;
}

/** A step: the header (image, parameters, pyramid), one call, or the final faces. */
export type Step = number | 'header' | 'final';

export interface StepResult {
  step: Step;
  fn?: TraceFn;
  stage?: string;
  /** unchecked: nothing could be compared (every array digest only and not comparable, or reordered). */
  status: 'equal' | 'within' | 'different' | 'unchecked';
  arrays: ArrayResult[];
  notes: string[];
}

export interface Difference {
  step: Step;
  fn?: TraceFn;
  stage?: string;
  array?: string;
  /**
   * structure: the traces do not line up (calls, parameters, arrays, shapes,
   * files); value: values beyond tolerance; digest: digests of exact values differ.
   */
  type: 'structure' | 'value' | 'digest';
  /** One line: what differs. */
  message: string;
  /** Further lines: the tolerance, the largest difference and where, the first differing values. */
  details: string[];
  /** Value differences: the largest |A - B| and its index in A's array. */
  maxDiff?: number;
  at?: number[];
}

export interface CompareReport {
  labels: [string, string];
  steps: StepResult[];
  /** The first difference beyond tolerance, or null when the traces agree. */
  difference: Difference | null;
  /** nms outputs in another order, explained by near-equal scores. */
  reorderings: number;
  calls: [number, number];
}

/** Thrown inside the walk at the first difference; compareTraces turns it into the report's `difference`. */
class Diverged extends Error {
  readonly difference: Difference;
  constructor(difference: Difference) {
    super(difference.message);
    this.difference = difference;
  }
}

const FNS = Object.keys(TRACE_ARRAYS);
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isShape = (x: unknown) => Array.isArray(x) && x.every((d) => Number.isSafeInteger(d) && d >= 0);

/** The first way `json` fails to be a trace.json, or null. */
function traceProblem(json: unknown): string | null {
  if (!isObject(json)) return 'trace.json is not an object';
  for (const k of ['height', 'width', 'faces']) if (!Number.isSafeInteger(json[k])) return `trace.json: ${k} is not an integer`;
  if (!isObject(json.image_digest) || typeof json.image_digest.sha256 !== 'string') return 'trace.json: image_digest.sha256 missing';
  const threshold = isObject(json.params) ? json.params.threshold : undefined;
  if (!Array.isArray(threshold) || threshold.length !== 3 || !threshold.every((t) => typeof t === 'number')) {
    return 'trace.json: params.threshold is not three numbers';
  }
  for (const k of ['scales', 'pyramid_sizes', 'calls']) if (!Array.isArray(json[k])) return `trace.json: ${k} is not a list`;
  const calls = json.calls as unknown[];
  for (let i = 0; i < calls.length; i++) {
    const c = calls[i];
    if (!isObject(c)) return `call ${i} is not an object`;
    if (typeof c.fn !== 'string' || !FNS.includes(c.fn)) return `call ${i}: fn ${JSON.stringify(c.fn)} is not one of ${FNS.join(', ')}`;
    if (typeof c.stage !== 'string') return `call ${i}: stage missing`;
    if (!isObject(c.arrays)) return `call ${i}: arrays missing`;
    const names = TRACE_ARRAYS[c.fn as TraceFn];
    const keys = Object.keys(c.arrays);
    const wrong = keys.find((k) => !names.includes(k)) ?? names.find((k) => !keys.includes(k) && !(c.fn === 'imresample' && k === 'in'));
    if (wrong !== undefined) return `call ${i} (${c.fn}): arrays ${keys.join(', ')}; a ${c.fn} call has ${names.join(', ')}`;
    for (const [key, r] of Object.entries(c.arrays)) {
      if (!isObject(r) || typeof r.dtype !== 'string' || !isShape(r.shape) || typeof r.sha256 !== 'string') {
        return `call ${i}: array ${key} needs dtype, shape and sha256`;
      }
      if (r.file !== undefined && typeof r.file !== 'string') return `call ${i}: array ${key}: file is not a name`;
    }
  }
  return null;
}

/** Deep equality of JSON values. */
function sameJson(x: unknown, y: unknown): boolean {
  if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => sameJson(v, y[i]));
  if (isObject(x) && isObject(y)) {
    const kx = Object.keys(x).sort(),
      ky = Object.keys(y).sort();
    return sameJson(kx, ky) && kx.every((k) => sameJson(x[k], y[k]));
  }
  return x === y;
}

const show = (x: unknown) => JSON.stringify(x) ?? 'nothing';
/** A dtype and shape as numpy prints them: "float32 (1, 21, 33, 2)". */
const typeOf = (r: { dtype: string; shape: number[] }) => `${r.dtype} (${r.shape.join(', ')}${r.shape.length === 1 ? ',' : ''})`;
const sig = (c: CallRecord) => `${c.stage} ${c.fn}`;

/** numpy's multi-index of flat position `i` in a C-order array of `shape`. */
function unravel(i: number, shape: number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0 && shape[d] > 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

interface ValueDiff {
  maxDiff: number;
  argMax: number;
  bad: number;
  first: { i: number; a: number; b: number; tol: number }[];
}

/** A's values against B's, row j of A with row perm[j] of B when perm is given. */
function diffValues(kind: Kind, a: ArrayLike<number>, b: ArrayLike<number>, rows: number, perm: Int32Array | null): ValueDiff {
  const width = rows > 0 ? a.length / rows : 0;
  const r: ValueDiff = { maxDiff: 0, argMax: -1, bad: 0, first: [] };
  for (let i = 0; i < a.length; i++) {
    const j = perm ? perm[Math.floor(i / width)] * width + (i % width) : i;
    const x = a[i],
      e = b[j];
    const d = x === e ? 0 : Math.abs(x - e);
    const tol = toleranceOf(kind, e);
    if (!(d <= tol)) {
      r.bad++;
      if (r.first.length < 5) r.first.push({ i, a: x, b: e, tol });
    }
    if (!(d <= r.maxDiff)) {
      r.maxDiff = Number.isNaN(d) ? Infinity : d;
      r.argMax = i;
    }
  }
  return r;
}

/** nms picks as row numbers (int16 picks past 32767 are negative and count from the end, as in numpy). */
const rowsOfPick = (pick: ArrayLike<number>, n: number) => Int32Array.from(pick, (v) => (v < 0 ? v + n : v));

/** The state carried along the calls: how A's candidate rows map to B's while a near-tie reorders them. */
interface Walk {
  A: TraceSource;
  B: TraceSource;
  a: TraceJson;
  b: TraceJson;
  options: CompareOptions;
  /** A's candidate row -> B's candidate row, null while the order is B's. */
  perm: Int32Array | null;
  /** Per-scale nms reorderings in stage 1, and the rows each kept. */
  scalePerms: (Int32Array | null)[];
  scaleRows: number[];
  reorderings: number;
  steps: StepResult[];
}

/**
 * Compares trace A with trace B (the reference side), call by call. Never
 * throws on a bad trace: malformed JSON, missing files and mismatched calls
 * are reported as structural differences.
 */
export function compareTraces(A: TraceSource, B: TraceSource, options: CompareOptions = {}): CompareReport {
  const report: CompareReport = { labels: [A.label, B.label], steps: [], difference: null, reorderings: 0, calls: [0, 0] };
  for (const side of [A, B]) {
    const problem = traceProblem(side.json);
    if (problem) {
      report.difference = { step: 'header', type: 'structure', message: `${side.label}: ${problem}`, details: [] };
      return report;
    }
  }
  const w: Walk = {
    A, B, options,
    a: A.json as TraceJson,
    b: B.json as TraceJson,
    perm: null, scalePerms: [], scaleRows: [], reorderings: 0,
    steps: report.steps,
  };
  report.calls = [w.a.calls.length, w.b.calls.length];
  try {
    compareHeader(w);
    const n = Math.min(w.a.calls.length, w.b.calls.length);
    for (let i = 0; i < n; i++) compareCall(w, i);
    if (w.a.calls.length !== w.b.calls.length) {
      const [more, fewer] = w.a.calls.length > n ? [w.A, w.B] : [w.B, w.A];
      const extra = (more === w.A ? w.a : w.b).calls.slice(n);
      throw new Diverged({
        step: n,
        type: 'structure',
        message:
          `${more.label} has ${extra.length} more call${extra.length === 1 ? '' : 's'} than ${fewer.label} ` +
          `(from call ${n}: ${sig(extra[0])})`,
        details: [],
      });
    }
    compareFinal(w);
  } catch (e) {
    if (!(e instanceof Diverged)) throw e;
    report.difference = e.difference;
    const last = report.steps[report.steps.length - 1];
    if (last && last.step === e.difference.step) last.status = 'different';
  }
  report.reorderings = w.reorderings;
  return report;
}

function compareHeader(w: Walk): void {
  const step: StepResult = { step: 'header', status: 'equal', arrays: [], notes: [] };
  w.steps.push(step);
  const differ = (type: Difference['type'], message: string, details: string[] = []): never => {
    throw new Diverged({ step: 'header', type, message, details });
  };
  const { a, b, A, B } = w;
  if (a.image_digest.sha256 !== b.image_digest.sha256 || a.height !== b.height || a.width !== b.width) {
    differ('structure', `not the same image: ${A.label} ${a.width}x${a.height} ${a.image_digest.sha256.slice(0, 12)}..., ` +
      `${B.label} ${b.width}x${b.height} ${b.image_digest.sha256.slice(0, 12)}...`);
  }
  if (!sameJson(a.params, b.params)) differ('structure', `parameters differ: ${A.label} ${show(a.params)}, ${B.label} ${show(b.params)}`);
  for (const key of ['scales', 'pyramid_sizes'] as const) {
    const x = a[key] as unknown[],
      y = b[key] as unknown[];
    const k = x.findIndex((v, i) => !sameJson(v, y[i]));
    if (k >= 0 || x.length !== y.length) {
      const at = k >= 0 ? k : Math.min(x.length, y.length);
      differ('value', `${key}[${at}]: ${A.label} ${show(x[at])}, ${B.label} ${show(y[at])}`, [
        `${A.label} has ${x.length} levels, ${B.label} ${y.length}; the pyramid must be exact (factor**k correctly rounded, ceil of h*scale)`,
      ]);
    }
  }
}

/** The param keys of a call record: everything but fn, stage, arrays and the score_ties statistic. */
const paramKeys = (c: CallRecord) => Object.keys(c).filter((k) => k !== 'fn' && k !== 'stage' && k !== 'arrays' && k !== 'score_ties');

/** Why call i does not line up: one extra call on either side, or sequences that part here. */
function describeMismatch(w: Walk, i: number): string {
  const rest = (calls: CallRecord[], from: number) => calls.slice(from).map(sig).join('|');
  const ca = w.a.calls,
    cb = w.b.calls;
  if (rest(ca, i + 1) === rest(cb, i)) return `${w.A.label} has an extra call ${i} (${sig(ca[i])}); after it the calls line up`;
  if (rest(ca, i) === rest(cb, i + 1)) return `${w.A.label} lacks ${w.B.label}'s call ${i} (${sig(cb[i])}); after it the calls line up`;
  return `${w.A.label} calls ${sig(ca[i])}, ${w.B.label} calls ${sig(cb[i])}; the call sequences part here`;
}

function compareCall(w: Walk, i: number): void {
  const ra = w.a.calls[i],
    rb = w.b.calls[i];
  if (ra.fn !== rb.fn || ra.stage !== rb.stage) {
    w.steps.push({ step: i, status: 'equal', arrays: [], notes: [] });
    throw new Diverged({ step: i, type: 'structure', message: describeMismatch(w, i), details: [] });
  }
  const step: StepResult = { step: i, fn: rb.fn, stage: rb.stage, status: 'equal', arrays: [], notes: [] };
  w.steps.push(step);
  const differ = (type: Difference['type'], message: string, details: string[] = [], extra: Partial<Difference> = {}): never => {
    throw new Diverged({ step: i, fn: rb.fn, stage: rb.stage, type, message, details, ...extra });
  };
  const pa = paramKeys(ra),
    pb = paramKeys(rb);
  for (const k of new Set([...pa, ...pb])) {
    if (!sameJson(ra[k], rb[k])) differ('structure', `parameter ${k}: ${w.A.label} ${show(ra[k])}, ${w.B.label} ${show(rb[k])}`);
  }
  if (ra.score_ties !== rb.score_ties) {
    step.notes.push(`score_ties ${show(ra.score_ties)} vs ${show(rb.score_ties)}`); // a statistic of `boxes`, compared below
  }
  const keys = Object.keys(ra.arrays),
    keysB = Object.keys(rb.arrays);
  if (!sameJson([...keys].sort(), [...keysB].sort())) {
    differ('structure', `arrays differ: ${w.A.label} lists ${keys.join(', ')}; ${w.B.label} lists ${keysB.join(', ')}`);
  }

  if (rb.fn === 'nms' && rb.stage === 'stage1-merge' && w.scalePerms.some((p) => p)) {
    // the merged candidates are the per-scale picks, concatenated
    const all: number[] = [];
    let offset = 0;
    w.scalePerms.forEach((p, s) => {
      for (let j = 0; j < w.scaleRows[s]; j++) all.push(offset + (p ? p[j] : j));
      offset += w.scaleRows[s];
    });
    w.perm = Int32Array.from(all);
  }

  const boxRows = rb.fn === 'nms' ? rb.arrays.boxes.shape[0] : 0;
  const values: Record<string, { a: ArrayLike<number>; b: ArrayLike<number> }> = {};
  for (const key of keys) {
    const xa = ra.arrays[key],
      xb = rb.arrays[key];
    if (xa.dtype !== xb.dtype || !sameJson(xa.shape, xb.shape)) {
      differ('structure', `${key}: ${w.A.label} ${typeOf(xa)}, ${w.B.label} ${typeOf(xb)}`, [], { array: key });
    }
    if (w.options.sameFiles && (xa.file === undefined) !== (xb.file === undefined)) {
      differ('structure', `${key} is kept as a file by ${(xa.file ? w.A : w.B).label} only`, [], { array: key });
    }
    const kind = kindOf(rb, key);
    const result = (outcome: Outcome, maxDiff = 0) => step.arrays.push({ key, outcome, maxDiff });
    if (xa.file !== undefined && xb.file !== undefined) {
      const where = { step: i, fn: rb.fn, stage: rb.stage, array: key };
      values[key] = { a: load(w.A, xa, where), b: load(w.B, xb, where) };
      if (rb.fn === 'nms' && key === 'pick' && boxRows > 0) continue; // checked below, as picked rows
      if (rb.fn === 'imresample' && w.perm && rb.stage !== 'stage1') {
        result('reordered'); // the first crops listed may be other candidates while the order differs
        continue;
      }
      const rowPerm = w.perm && isPerCandidate(rb, key) ? w.perm : null;
      const d = diffValues(kind, values[key].a, values[key].b, xa.shape[0], rowPerm);
      if (d.bad > 0) {
        const message = `${key}: ${d.bad} of ${values[key].a.length} values differ beyond tolerance`;
        differ('value', message, valueDetails(w, xa, kind, d, rowPerm), valueFields(key, xa, d));
      }
      result(d.maxDiff === 0 ? 'equal' : 'within', d.maxDiff);
    } else if (kind === 'exact' && w.perm && isPerCandidate(rb, key)) {
      result('reordered'); // a digest cannot see past a row reordering
    } else if (xa.sha256 === xb.sha256) {
      result('digest');
    } else if (kind === 'exact') {
      const message = `${key}: sha256 differs (${w.A.label} ${xa.sha256.slice(0, 16)}..., ${w.B.label} ${xb.sha256.slice(0, 16)}...)`;
      differ('digest', message, [
        `${typeOf(xa)}, kept as a digest only; these values must be bit-equal (${TOLERANCE_TEXT.exact})`,
      ], { array: key });
    } else {
      result('not-comparable');
    }
  }

  const need = (key: string) => {
    if (!values[key]) {
      const message = `${key} must be kept as a file on both sides: the walk follows the candidates through it`;
      differ('structure', message, [], { array: key });
    }
    return values[key];
  };
  if (rb.fn === 'nms' && boxRows > 0) {
    const boxes = need('boxes').b,
      pick = need('pick');
    const cols = rb.arrays.boxes.shape[1];
    const inPerm = rb.stage === 'stage1' ? null : w.perm;
    const out = permAfterPick(w, i, rowsOfPick(pick.a, boxRows), rowsOfPick(pick.b, boxRows), inPerm, (row) => boxes[row * cols + 4]);
    step.arrays.push({ key: 'pick', outcome: out === null && inPerm === null ? 'equal' : 'within', maxDiff: 0 });
    if (out) step.notes.push('picks in another order, explained by near-equal scores');
    if (rb.stage === 'stage1') {
      w.scalePerms.push(out);
      w.scaleRows.push(pick.a.length);
    } else w.perm = out;
  } else if (rb.fn === 'nms' && rb.stage === 'stage1') {
    w.scalePerms.push(null);
    w.scaleRows.push(0);
  }
  const [, t2, t3] = w.b.params.threshold;
  if (rb.fn === 'rnet') w.perm = permAfterFilter(w, i, 'out1', need('out1'), t2);
  if (rb.fn === 'onet') w.perm = permAfterFilter(w, i, 'out2', need('out2'), t3);
  if (step.arrays.some((r) => r.outcome === 'within')) step.status = 'within';
  else if (step.arrays.every((r) => r.outcome === 'not-comparable' || r.outcome === 'reordered')) step.status = 'unchecked';
}

/** The values of a kept array, checked against its record; a file that cannot be read is a structural difference. */
function load(side: TraceSource, rec: ArrayRecord, where: Pick<Difference, 'step' | 'fn' | 'stage' | 'array'>): ArrayLike<number> {
  const file = rec.file as string;
  const fail = (message: string): never => {
    throw new Diverged({ ...where, type: 'structure', message, details: [] });
  };
  let arr: NpyArray;
  try {
    arr = side.load(file);
  } catch (e) {
    return fail(`${side.label}: cannot read ${file}: ${(e as Error).message}`);
  }
  if (arr.dtype !== rec.dtype || !sameJson(arr.shape, rec.shape)) {
    fail(`${side.label}: ${file} holds ${typeOf(arr)}, trace.json says ${typeOf(rec)}`);
  }
  return toNumbers(arr.data);
}

function valueFields(key: string, rec: { shape: number[] }, d: ValueDiff): Partial<Difference> {
  return { array: key, maxDiff: d.maxDiff, at: unravel(d.argMax, rec.shape) };
}

/** The lines under a value difference: tolerance, largest difference and where, the first differing values. */
function valueDetails(w: Walk, rec: { dtype: string; shape: number[] }, kind: Kind, d: ValueDiff, perm: Int32Array | null): string[] {
  const at = (i: number) => `[${unravel(i, rec.shape).join(', ')}]`;
  const lines = [
    `${typeOf(rec)}, tolerance: ${TOLERANCE_TEXT[kind]}`,
    `largest |diff| ${d.maxDiff} at ${at(d.argMax)} (flat index ${d.argMax})`,
    `first differing values (index in ${w.A.label}: ${w.A.label}, ${w.B.label}):`,
    ...d.first.map((f) => `  ${at(f.i)}: ${f.a}, ${f.b}  (|diff| ${Math.abs(f.a - f.b)} > ${f.tol.toExponential(2)})`),
  ];
  if (perm) lines.push(`rows are matched through a near-tie reordering (${w.A.label}'s row j is ${w.B.label}'s row perm[j])`);
  return lines;
}

/**
 * After an nms: which of B's output rows each of A's output rows is. inPerm
 * maps A's input rows to B's. Returns null when the order is B's.
 */
function permAfterPick(
  w: Walk,
  i: number,
  pickA: Int32Array,
  pickB: Int32Array,
  inPerm: Int32Array | null,
  scoreB: (row: number) => number,
): Int32Array | null {
  const differ = (message: string): never => {
    throw new Diverged({ step: i, fn: 'nms', stage: w.b.calls[i].stage, array: 'pick', type: 'value', message, details: [] });
  };
  const posB = new Map<number, number>();
  pickB.forEach((r, j) => posB.set(r, j));
  const perm = new Int32Array(pickA.length);
  let identity = true;
  for (let j = 0; j < pickA.length; j++) {
    const rowB = inPerm ? inPerm[pickA[j]] : pickA[j];
    const pos = posB.get(rowB);
    if (pos === undefined) differ(`${w.A.label} keeps candidate ${rowB} (numbered as in ${w.B.label}), ${w.B.label} does not`);
    perm[j] = pos as number;
    if (pos !== j) identity = false;
  }
  if (identity) return null;
  for (let j = 1; j < perm.length; j++) {
    const prev = scoreB(pickB[perm[j - 1]]),
      cur = scoreB(pickB[perm[j]]);
    if (cur > prev + 2 * NET_ABS) differ(`picks in another order, not explained by near-equal scores (${prev} then ${cur})`);
  }
  w.reorderings++;
  return perm;
}

/** After a score filter (stages 2 and 3): which of B's passing rows each of A's passing rows is. */
function permAfterFilter(
  w: Walk,
  i: number,
  key: string,
  prob: { a: ArrayLike<number>; b: ArrayLike<number> },
  t: number,
): Int32Array | null {
  const passB: number[] = [],
    passA: number[] = [];
  const tf = Math.fround(t); // numpy compares float32 scores in float32
  for (let r = 0; r < prob.b.length / 2; r++) if (prob.b[r * 2 + 1] > tf) passB.push(r);
  for (let r = 0; r < prob.a.length / 2; r++) if (prob.a[r * 2 + 1] > tf) passA.push(r);
  const differ = (message: string): never => {
    throw new Diverged({ step: i, fn: w.b.calls[i].fn, stage: w.b.calls[i].stage, array: key, type: 'value', message, details: [] });
  };
  if (passA.length !== passB.length) {
    differ(`candidates above the threshold ${t}: ${w.A.label} ${passA.length}, ${w.B.label} ${passB.length}`);
  }
  if (!w.perm) return null;
  const inPerm = w.perm;
  const posB = new Map<number, number>();
  passB.forEach((r, j) => posB.set(r, j));
  const perm = Int32Array.from(passA, (r) => posB.get(inPerm[r]) ?? -1);
  if (perm.includes(-1)) differ(`other candidates pass the threshold ${t} in ${w.A.label} than in ${w.B.label}`);
  return perm.every((p, j) => p === j) ? null : perm;
}

/** The final faces: their number, final_boxes (n, 5) and final_points (10, n), row to matching row. */
function compareFinal(w: Walk): void {
  const step: StepResult = { step: 'final', status: 'equal', arrays: [], notes: [] };
  w.steps.push(step);
  const differ = (type: Difference['type'], message: string, details: string[] = [], extra: Partial<Difference> = {}): never => {
    throw new Diverged({ step: 'final', type, message, details, ...extra });
  };
  if (w.a.faces !== w.b.faces) differ('value', `number of faces: ${w.A.label} ${w.a.faces}, ${w.B.label} ${w.b.faces}`);
  for (const name of ['final_boxes', 'final_points']) {
    const file = `${name}.npy`;
    const read = (side: TraceSource) => {
      try {
        return side.load(file);
      } catch (e) {
        return differ('structure', `${side.label}: cannot read ${file}: ${(e as Error).message}`, [], { array: name });
      }
    };
    const xa = read(w.A),
      xb = read(w.B);
    if (xa.dtype !== xb.dtype || !sameJson(xa.shape, xb.shape)) {
      differ('structure', `${name}: ${w.A.label} ${typeOf(xa)}, ${w.B.label} ${typeOf(xb)}`, [], { array: name });
    }
    let va = toNumbers(xa.data),
      vb = toNumbers(xb.data);
    let shape = xa.shape;
    if (name === 'final_points' && shape.length === 2) {
      // points are (10, n): columns are faces, so compare the transposes
      const [r, n] = shape;
      const tr = (p: ArrayLike<number>) => Float64Array.from({ length: p.length }, (_, k) => p[(k % r) * n + Math.floor(k / r)]);
      va = tr(va);
      vb = tr(vb);
      shape = [n, r];
    }
    const d = diffValues('downstream', va, vb, shape[0], w.perm);
    if (d.bad > 0) {
      const message = `${name}: ${d.bad} of ${va.length} values differ beyond tolerance`;
      differ('value', message, valueDetails(w, { dtype: xa.dtype, shape }, 'downstream', d, w.perm), valueFields(name, { shape }, d));
    }
    step.arrays.push({ key: name, outcome: d.maxDiff === 0 ? 'equal' : 'within', maxDiff: d.maxDiff });
  }
  if (step.arrays.some((r) => r.outcome === 'within')) step.status = 'within';
}

/** How reports name a step: "call 12 (stage2 nms)", "the header", "the final faces". */
export function stepName(d: { step: Step; fn?: string; stage?: string }): string {
  if (d.step === 'header') return 'the header (image, parameters, pyramid)';
  if (d.step === 'final') return 'the final faces';
  return d.fn ? `call ${d.step} (${d.stage} ${d.fn})` : `call ${d.step}`;
}

/** The first difference as readable lines: where, what, the details, and what the step does. */
export function formatDifference(d: Difference): string {
  const kind = { structure: 'structural difference', digest: 'digest difference', value: 'difference beyond tolerance' }[d.type];
  const lines = [`first ${kind} at ${stepName(d)}${d.array ? `, array ${d.array}` : ''}:`, `  ${d.message}`];
  for (const l of d.details) lines.push(`  ${l}`);
  if (d.fn) lines.push(`  ${d.fn}: ${STEP_NOTES[d.fn]}`);
  return lines.join('\n');
}
