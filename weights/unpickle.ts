/**
 * Reads facenet's det1/2/3.npy (src/align, loaded by `Network.load` in
 * detect_face.py with `np.load(path, encoding='latin1').item()`) without
 * Python.
 *
 * Each file is an .npy container holding a 0-d object array (`'descr': '|O'`,
 * `'shape': ()`); its payload is a protocol-2 pickle written by Python 2 of
 * `{layer: {param: float32 ndarray}}`. This is a small stack machine for
 * exactly the opcodes and globals those files use (listed in
 * ../shared/mtcnn/README.md, plus BININT2 and TUPLE2, which det2/det3 also
 * use); anything else is refused with its name and byte offset, so a
 * different file fails loudly instead of loading garbage.
 *
 * How numpy pickles an array: `_reconstruct(ndarray, (0,), 'b')` (REDUCE)
 * makes an empty array, then BUILD sets its state
 * `(version 1, shape, dtype, is_fortran, raw)`: raw is the data as a Python 2
 * `str` (BINSTRING; bytes, read as latin-1) for numeric dtypes, or a list of
 * objects for dtype `O8`. A dtype is `dtype('f4', 0, 1)` (REDUCE) then BUILD
 * with `(3, byteorder, subarray, names, fields, elsize, alignment, flags)`.
 * Some weights (the last 1x1 conv / fc of each net) are stored in Fortran
 * order; they are reordered to C order here, as numpy does on any C-order read.
 * @module
 */
import { MtcnnError } from '../src/errors.ts';
import { parseNpyHeader } from '../src/io/npy.ts';
import type { Tensor } from '../src/weights/format.ts';

/** The Python values the stack machine builds. Python 2 `str` stays bytes until used as text. */
export type PyValue =
  | null
  | boolean
  | number
  | string
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'tuple'; items: PyValue[] }
  | { kind: 'list'; items: PyValue[] }
  | { kind: 'dict'; map: Map<string, PyValue> }
  | { kind: 'global'; name: string }
  | { kind: 'dtype'; descr: string; byteorder: string | null }
  /** `value` is null until BUILD: a Tensor for float32, the items for dtype object. */
  | { kind: 'ndarray'; value: Tensor | PyValue[] | null };

/** Opcodes of pickle protocols 0-2 that facenet's files use (CPython's Lib/pickle.py names). */
const MARK = 0x28; // '(' push a mark for the next TUPLE / SETITEMS
const STOP = 0x2e; // '.' end; the top of the stack is the result
const BININT = 0x4a; // 'J' i32 LE
const BININT1 = 0x4b; // 'K' u8
const BININT2 = 0x4d; // 'M' u16 LE
const NONE = 0x4e; // 'N'
const REDUCE = 0x52; // 'R' callable(*args)
const BINSTRING = 0x54; // 'T' Python 2 str, i32 LE length
const SHORT_BINSTRING = 0x55; // 'U' Python 2 str, u8 length
const BINUNICODE = 0x58; // 'X' unicode, u32 LE length, UTF-8
const EMPTY_LIST = 0x5d; // ']'
const APPEND = 0x61; // 'a' list.append(value)
const BUILD = 0x62; // 'b' obj.__setstate__(state)
const GLOBAL = 0x63; // 'c' module\nname\n
const BINGET = 0x68; // 'h' push memo[u8]
const BINPUT = 0x71; // 'q' memo[u8] = top
const SETITEM = 0x73; // 's' dict[key] = value
const TUPLE = 0x74; // 't' tuple of everything above the mark
const SETITEMS = 0x75; // 'u' dict[k] = v for each pair above the mark
const EMPTY_DICT = 0x7d; // '}'
const EMPTY_TUPLE = 0x29; // ')'
const PROTO = 0x80; // protocol version, u8
const TUPLE1 = 0x85;
const TUPLE2 = 0x86;
const TUPLE3 = 0x87;
const NEWTRUE = 0x88;
const NEWFALSE = 0x89;

const RECONSTRUCT = 'numpy.core.multiarray._reconstruct';
const NDARRAY = 'numpy.ndarray';
const DTYPE = 'numpy.dtype';
const ALLOWED_GLOBALS = new Set([RECONSTRUCT, NDARRAY, DTYPE]);
/** The protocol Python 2's cPickle.HIGHEST_PROTOCOL writes, which numpy.save used. */
const PICKLE_PROTOCOL = 2;
/** `ndarray.__reduce__` state version, and numpy's dtype state version, in these files. */
const NDARRAY_STATE_VERSION = 1;
const DTYPE_STATE_VERSION = 3;

type PyObject = Extract<PyValue, { kind: string }>;

/** Type guard: `v` is the Python object of that kind. */
function is<K extends PyObject['kind']>(
  v: PyValue | undefined,
  kind: K,
): v is Extract<PyObject, { kind: K }> {
  return typeof v === 'object' && v !== null && v.kind === kind;
}

function kindOf(v: PyValue | undefined): string {
  if (v === undefined) return 'nothing (empty stack)';
  if (v === null) return 'None';
  if (typeof v !== 'object') return typeof v;
  return v.kind;
}

/** Text of a Python 2 str (latin-1, as `encoding='latin1'` reads it) or unicode. */
function asText(v: PyValue): string | null {
  if (typeof v === 'string') return v;
  if (is(v, 'bytes')) return String.fromCharCode(...v.bytes);
  return null;
}

/**
 * Runs the pickle that starts at `bytes[start]`; returns what STOP leaves.
 * @param label names the file in error messages; offsets in them are into `bytes`.
 * @throws MtcnnError('BAD_NPY') for any opcode, global or value outside the set above.
 */
export function unpickle(bytes: Uint8Array, start: number, label: string): PyValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: PyValue[] = [];
  const marks: number[] = []; // stack heights at each MARK
  const memo = new Map<number, PyValue>();
  let pos = start;
  let opPos = start;

  const fail = (why: string) => {
    const op =
      opPos < bytes.length
        ? `pickle opcode 0x${bytes[opPos].toString(16)} at byte ${opPos}`
        : `pickle at byte ${opPos}, the end of the file`;
    return new MtcnnError('BAD_NPY', `${label}: ${op}: ${why}`);
  };
  const need = (n: number) => {
    if (pos + n > bytes.length) {
      throw fail(`truncated (needs ${n} more bytes, the file ends at ${bytes.length})`);
    }
  };
  const pop = (): PyValue => {
    // Popping below the last MARK would break TUPLE / SETITEMS.
    if (stack.length === 0 || stack.length === marks[marks.length - 1]) throw fail('stack underflow');
    return stack.pop()!;
  };
  const popMark = (): PyValue[] => {
    if (marks.length === 0) throw fail('no MARK to pop to');
    return stack.splice(marks.pop()!);
  };
  const top = (): PyValue => {
    if (stack.length === 0) throw fail('stack underflow');
    return stack[stack.length - 1];
  };
  const readLine = (): string => {
    let s = '';
    for (;;) {
      need(1);
      const c = bytes[pos++];
      if (c === 0x0a) return s;
      s += String.fromCharCode(c);
    }
  };
  const readBytes = (n: number) => {
    need(n);
    pos += n;
    return bytes.subarray(pos - n, pos);
  };
  const dictOf = (v: PyValue, what: string) => {
    if (!is(v, 'dict')) throw fail(`${what} is a ${kindOf(v)}, not a dict`);
    return v.map;
  };
  const keyOf = (v: PyValue) => {
    const key = asText(v);
    if (key === null) throw fail(`dict key is a ${kindOf(v)}, not a string`);
    return key;
  };

  for (;;) {
    opPos = pos;
    if (pos >= bytes.length) throw fail('truncated (no STOP)');
    const op = bytes[pos++];
    switch (op) {
      case PROTO: {
        need(1);
        const proto = bytes[pos++];
        if (proto !== PICKLE_PROTOCOL) throw fail(`PROTO ${proto}, expected ${PICKLE_PROTOCOL}`);
        break;
      }
      case GLOBAL: {
        const name = `${readLine()}.${readLine()}`;
        if (!ALLOWED_GLOBALS.has(name)) throw fail(`unsupported global ${name} (GLOBAL)`);
        stack.push({ kind: 'global', name });
        break;
      }
      case MARK: marks.push(stack.length); break;
      case STOP: {
        if (stack.length !== 1 || marks.length !== 0) {
          throw fail(`STOP with ${stack.length} values and ${marks.length} marks on the stack`);
        }
        return stack[0];
      }
      case EMPTY_DICT: stack.push({ kind: 'dict', map: new Map() }); break;
      case EMPTY_LIST: stack.push({ kind: 'list', items: [] }); break;
      case EMPTY_TUPLE: stack.push({ kind: 'tuple', items: [] }); break;
      case TUPLE: stack.push({ kind: 'tuple', items: popMark() }); break;
      case TUPLE1: stack.push({ kind: 'tuple', items: [pop()] }); break;
      case TUPLE2: {
        const b = pop();
        stack.push({ kind: 'tuple', items: [pop(), b] });
        break;
      }
      case TUPLE3: {
        const c = pop();
        const b = pop();
        stack.push({ kind: 'tuple', items: [pop(), b, c] });
        break;
      }
      case SETITEM: {
        const value = pop();
        const key = keyOf(pop());
        dictOf(top(), 'SETITEM target').set(key, value);
        break;
      }
      case SETITEMS: {
        const items = popMark();
        if (items.length % 2 !== 0) throw fail('SETITEMS with an odd number of values');
        const map = dictOf(top(), 'SETITEMS target');
        for (let i = 0; i < items.length; i += 2) map.set(keyOf(items[i]), items[i + 1]);
        break;
      }
      case APPEND: {
        const value = pop();
        const list = top();
        if (!is(list, 'list')) throw fail(`APPEND to a ${kindOf(list)}`);
        list.items.push(value);
        break;
      }
      case BINPUT: {
        need(1);
        memo.set(bytes[pos++], top());
        break;
      }
      case BINGET: {
        need(1);
        const slot = bytes[pos++];
        if (!memo.has(slot)) throw fail(`BINGET of empty memo slot ${slot}`);
        stack.push(memo.get(slot)!);
        break;
      }
      case BININT: need(4); stack.push(view.getInt32(pos, true)); pos += 4; break;
      case BININT1: need(1); stack.push(bytes[pos++]); break;
      case BININT2: need(2); stack.push(view.getUint16(pos, true)); pos += 2; break;
      case BINSTRING: {
        need(4);
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) throw fail(`BINSTRING of negative length ${n}`);
        stack.push({ kind: 'bytes', bytes: readBytes(n) });
        break;
      }
      case SHORT_BINSTRING: {
        need(1);
        const n = bytes[pos++];
        stack.push({ kind: 'bytes', bytes: readBytes(n) });
        break;
      }
      case BINUNICODE: {
        need(4);
        const n = view.getUint32(pos, true);
        pos += 4;
        const utf8 = readBytes(n);
        try {
          stack.push(new TextDecoder('utf-8', { fatal: true }).decode(utf8));
        } catch {
          throw fail('BINUNICODE is not valid UTF-8');
        }
        break;
      }
      case NONE: stack.push(null); break;
      case NEWTRUE: stack.push(true); break;
      case NEWFALSE: stack.push(false); break;
      case REDUCE: {
        const args = pop();
        const fn = pop();
        if (!is(args, 'tuple')) throw fail(`REDUCE args are a ${kindOf(args)}`);
        if (!is(fn, 'global')) throw fail(`REDUCE calls a ${kindOf(fn)}`);
        const first = args.items[0];
        if (fn.name === RECONSTRUCT) {
          // _reconstruct(ndarray, (0,), 'b'): an empty array that BUILD fills in.
          if (!is(first, 'global') || first.name !== NDARRAY) {
            throw fail(`_reconstruct of a ${kindOf(first)}, expected ${NDARRAY}`);
          }
          stack.push({ kind: 'ndarray', value: null });
        } else if (fn.name === DTYPE) {
          const descr = asText(first);
          if (descr === null) throw fail(`dtype of a ${kindOf(first)}`);
          stack.push({ kind: 'dtype', descr, byteorder: null });
        } else {
          throw fail(`REDUCE of ${fn.name}`);
        }
        break;
      }
      case BUILD: {
        const state = pop();
        const obj = top();
        if (is(obj, 'dtype')) {
          obj.byteorder = dtypeByteorder(state, fail);
        } else if (is(obj, 'ndarray')) {
          obj.value = arrayFromState(state, fail);
        } else {
          throw fail(`BUILD of a ${kindOf(obj)}`);
        }
        break;
      }
      default: {
        const printable = op >= 0x20 && op < 0x7f ? ` '${String.fromCharCode(op)}'` : '';
        throw fail(`unsupported opcode${printable}`);
      }
    }
  }
}

type Fail = (why: string) => MtcnnError;

/** The items of a tuple, of `length` items when given. */
function tupleItems(v: PyValue, what: string, fail: Fail, length?: number): PyValue[] {
  if (!is(v, 'tuple')) throw fail(`${what} is a ${kindOf(v)}, not a tuple`);
  if (length !== undefined && v.items.length !== length) {
    throw fail(`${what} has ${v.items.length} items, expected ${length}`);
  }
  return v.items;
}

/** dtype state `(3, byteorder, subarray, names, fields, elsize, alignment, flags)` -> byteorder. */
function dtypeByteorder(state: PyValue, fail: Fail): string {
  const s = tupleItems(state, 'dtype state', fail, 8);
  const byteorder = asText(s[1]);
  if (s[0] !== DTYPE_STATE_VERSION || byteorder === null) throw fail('unexpected dtype state');
  return byteorder;
}

/** ndarray state `(1, shape, dtype, is_fortran, raw)` -> its contents. */
function arrayFromState(state: PyValue, fail: Fail): Tensor | PyValue[] {
  const [version, shapeV, dtype, isFortran, raw] = tupleItems(state, 'ndarray state', fail, 5);
  if (version !== NDARRAY_STATE_VERSION) throw fail(`ndarray state version ${String(version)}`);
  const dims: number[] = [];
  let count = 1;
  for (const d of tupleItems(shapeV, 'array shape', fail)) {
    if (typeof d !== 'number' || d < 0) throw fail(`array shape has a ${kindOf(d)} ${String(d)}`);
    dims.push(d);
    count *= d;
  }
  if (!is(dtype, 'dtype')) throw fail(`array dtype is a ${kindOf(dtype)}`);
  if (typeof isFortran !== 'boolean') throw fail('is_fortran is not a bool');

  if (dtype.descr === 'O8' && dtype.byteorder === '|') {
    // An object array (the container, 0-d): its items. Only 0-d occurs, where order is moot.
    if (!is(raw, 'list') || raw.items.length !== count) {
      throw fail(`object array of shape (${dims.join(', ')}) needs a list of ${count} items`);
    }
    return raw.items;
  }
  // float32 little-endian is the only numeric dtype accepted: the nets run in float32.
  if (dtype.descr !== 'f4' || dtype.byteorder !== '<') {
    throw fail(`unsupported dtype ${dtype.byteorder ?? ''}${dtype.descr}, expected <f4`);
  }
  if (!is(raw, 'bytes')) throw fail(`float32 data is a ${kindOf(raw)}`);
  if (raw.bytes.length !== count * Float32Array.BYTES_PER_ELEMENT) {
    const expected = count * Float32Array.BYTES_PER_ELEMENT;
    throw fail(`float32 array (${dims.join(', ')}) has ${raw.bytes.length} data bytes, not ${expected}`);
  }
  // Copy (into a fresh, aligned buffer): the data's offset in the file need not
  // be a multiple of 4. Not `bytes.slice()`: on a Node Buffer that is a view.
  const values = new Float32Array(count);
  new Uint8Array(values.buffer).set(raw.bytes);
  return { shape: dims, data: isFortran ? fortranToC(values, dims) : values };
}

/**
 * Reorders an array stored in Fortran order (first axis fastest) to C order
 * (last axis fastest): out[i0, ..., in] = src[i0 + s0 * (i1 + s1 * (...))].
 */
function fortranToC(src: Float32Array, shape: number[]): Float32Array {
  const rank = shape.length;
  const out = new Float32Array(src.length);
  const fStride = new Int32Array(rank); // Fortran stride of each axis, in elements
  let s = 1;
  for (let k = 0; k < rank; k++) {
    fStride[k] = s;
    s *= shape[k];
  }
  const idx = new Int32Array(rank); // the multi-index of out[c]
  let f = 0; // its Fortran offset in src
  for (let c = 0; c < out.length; c++) {
    out[c] = src[f];
    // Advance the C-order multi-index like an odometer, last axis first.
    for (let k = rank - 1; k >= 0; k--) {
      idx[k]++;
      f += fStride[k];
      if (idx[k] < shape[k]) break;
      f -= fStride[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

/**
 * Reads one of facenet's det*.npy into `layer/param` -> float32 tensor, in the
 * file's order. Checks the container only; schema.ts checks names and shapes.
 * @throws MtcnnError('BAD_NPY') naming `label` and the problem.
 */
export function readFacenetNpy(bytes: Uint8Array, label: string): Map<string, Tensor> {
  const header = parseNpyHeader(bytes, label);
  if (header.descr !== '|O' || header.shape.length !== 0) {
    throw new MtcnnError(
      'BAD_NPY',
      `${label}: expected a pickled 0-d object array ('descr': '|O', 'shape': ()), ` +
        `got descr '${header.descr}' shape (${header.shape.join(', ')})`,
    );
  }
  const bad = (why: string) => new MtcnnError('BAD_NPY', `${label}: ${why}`);
  const root = unpickle(bytes, header.dataOffset, label);
  if (!is(root, 'ndarray') || !Array.isArray(root.value)) {
    throw bad(`the pickle holds a ${kindOf(root)}, not an object array`);
  }
  const layers = root.value[0];
  if (!is(layers, 'dict')) {
    throw bad(`the object array holds a ${kindOf(layers)}, not a dict of layers`);
  }
  const out = new Map<string, Tensor>();
  for (const [layer, params] of layers.map) {
    if (!is(params, 'dict')) {
      throw bad(`layer ${layer} is a ${kindOf(params)}, not a dict of params`);
    }
    for (const [param, arr] of params.map) {
      if (!is(arr, 'ndarray') || arr.value === null || Array.isArray(arr.value)) {
        throw bad(`${layer}/${param} is a ${kindOf(arr)}, not a float32 array`);
      }
      out.set(`${layer}/${param}`, arr.value);
    }
  }
  return out;
}
