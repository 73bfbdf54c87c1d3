/**
 * NumPy `.npy` files (format 1.0 and 2.0, C order), read and written on plain
 * bytes so that the goldens of ../shared/mtcnn and the traces of `mtcnn trace`
 * can be handled in any runtime.
 *
 * Layout: magic `\x93NUMPY`, major and minor version bytes, a little-endian
 * header length (u16 in 1.0, u32 in 2.0), a Python-literal dict
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with
 * spaces to a multiple of 64 bytes and ended by `\n`, then the raw data.
 * @module
 */
import { MtcnnError } from '../errors.ts';

/** The dtypes the goldens use, by their npy `descr`. */
export type NpyDtype = 'uint8' | 'int16' | 'int32' | 'int64' | 'float32' | 'float64';

const DESCR_TO_DTYPE: Record<string, NpyDtype> = {
  '|u1': 'uint8',
  '<i2': 'int16',
  '<i4': 'int32',
  '<i8': 'int64',
  '<f4': 'float32',
  '<f8': 'float64',
};
const DTYPE_TO_DESCR: Record<NpyDtype, string> = {
  uint8: '|u1',
  int16: '<i2',
  int32: '<i4',
  int64: '<i8',
  float32: '<f4',
  float64: '<f8',
};
const ITEM_SIZE: Record<NpyDtype, number> = {
  uint8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  float32: 4,
  float64: 8,
};

export type NpyData = Uint8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** C-order values. int64 comes back as BigInt64Array; `toNumbers` converts. */
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parse the header of an .npy file; shared with the weights exporter. */
export function parseNpyHeader(
  bytes: Uint8Array,
  label = 'npy',
): { descr: string; fortranOrder: boolean; shape: number[]; dataOffset: number } {
  const bad = (why: string) => new MtcnnError('BAD_NPY', `${label}: ${why}`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad('not an .npy file (bad magic)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number, start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad('truncated header');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw bad(`unsupported format version ${major}.${bytes[7]}`);
  }
  if (start + headerLen > bytes.length) throw bad('truncated header');
  let header = '';
  for (let i = start; i < start + headerLen; i++) header += String.fromCharCode(bytes[i]);
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw bad(`unreadable header ${JSON.stringify(header.trim())}`);
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(n) || n < 0) throw bad(`bad shape ${shape[1]}`);
      return n;
    });
  return { descr: descr[1], fortranOrder: fortran[1] === 'True', shape: dims, dataOffset: start + headerLen };
}

/** Read an .npy file of one of the dtypes above (C or Fortran order; values come back in C order). Anything else is an error. */
export function readNpy(bytes: Uint8Array, label = 'npy'): NpyArray {
  const h = parseNpyHeader(bytes, label);
  const dtype = DESCR_TO_DTYPE[h.descr];
  if (!dtype) throw new MtcnnError('BAD_NPY', `${label}: unsupported dtype '${h.descr}'`);
  const count = h.shape.reduce((a, b) => a * b, 1);
  const nbytes = count * ITEM_SIZE[dtype];
  if (h.dataOffset + nbytes > bytes.length) {
    throw new MtcnnError('BAD_NPY', `${label}: truncated data (${bytes.length - h.dataOffset} of ${nbytes} bytes)`);
  }
  // Copy into a fresh, aligned buffer: the data offset need not be aligned.
  const raw = bytes.slice(h.dataOffset, h.dataOffset + nbytes).buffer;
  let data: NpyData;
  switch (dtype) {
    case 'uint8': data = new Uint8Array(raw); break;
    case 'int16': data = new Int16Array(raw); break;
    case 'int32': data = new Int32Array(raw); break;
    case 'int64': data = new BigInt64Array(raw); break;
    case 'float32': data = new Float32Array(raw); break;
    case 'float64': data = new Float64Array(raw); break;
  }
  return { dtype, shape: h.shape, data: h.fortranOrder ? fortranToC(data, h.shape) : data };
}

/**
 * numpy saves a transposed array (e.g. detect_face()'s `points`, (10, n)) in
 * Fortran order: the first index varies fastest. Reorder into C order.
 */
function fortranToC<T extends NpyData>(src: T, shape: number[]): T {
  const dst = new (src.constructor as new (n: number) => T)(src.length);
  const n = shape.length;
  const idx = new Array<number>(n).fill(0);
  for (let c = 0; c < src.length; c++) {
    // idx is the multi-index of C-order position c; find its Fortran-order offset
    let f = 0;
    for (let d = n - 1; d >= 0; d--) f = f * shape[d] + idx[d];
    dst[c] = src[f];
    for (let d = n - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return dst;
}

/** Write an .npy file (format 1.0, C order). The machine is assumed little-endian, as every JS engine in use is. */
export function writeNpy(arr: NpyArray): Uint8Array {
  const shape = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  let header = `{'descr': '${DTYPE_TO_DESCR[arr.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const body = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  const out = new Uint8Array(10 + header.length + body.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}

/** Values as JS numbers (int64 converted; safe for the goldens' small integers). */
export function toNumbers(data: NpyData): ArrayLike<number> {
  return data instanceof BigInt64Array ? Float64Array.from(data, (v) => Number(v)) : data;
}
