/**
 * mtcnn-ts's own weights file (`weights/mtcnn.bin`): the three nets of
 * facenet's det1/2/3.npy in one flat, self-describing file that any runtime
 * can parse from bytes (fetch, fs, an embedded asset). No I/O here.
 *
 * Layout (all integers little-endian; full spec in weights/README.md):
 *
 *   offset  size  field
 *   0       8     magic, ASCII "MTCNNWTS"
 *   8       4     u32 format version (FORMAT_VERSION)
 *   12      4     u32 header length H in bytes, padding included
 *   16      4     u32 CRC-32 of the H header bytes
 *   20      H     header: ASCII JSON `{"sources": {...}, "tensors": [...]}`,
 *                 space-padded so the data starts on a multiple of 8
 *   20 + H  ...   data: each tensor's float32 values, C order, little-endian,
 *                 at its `offset` (relative to the data start, a multiple of 8)
 *
 * A tensor entry is `{"net", "layer", "param", "shape", "offset", "crc32"}`,
 * crc32 being 8 hex digits over the tensor's bytes. The 8-byte alignment lets
 * parseWeights hand out Float32Array views into the caller's buffer with no
 * copy when that buffer is itself aligned (a fresh ArrayBuffer, a Node file
 * read), as safetensors does; otherwise each tensor is copied. Values are
 * read and written in the host's byte order, which is little-endian on every
 * engine in use (src/io/npy.ts assumes the same).
 * @module
 */
import { MtcnnError, show } from '../errors.ts';
import { crc32 } from './crc32.ts';
import { SCHEMA, checkAgainstSchema, showShape, tensorKey } from './schema.ts';

export interface Tensor {
  shape: number[];
  /** C-order values, prod(shape) of them. */
  data: Float32Array;
}

export type NetName = 'pnet' | 'rnet' | 'onet';

/** One net's tensors keyed `layer/param` exactly as in det*.npy (see schema.ts). */
export type NetWeights = Record<string, Tensor>;

export interface MtcnnWeights {
  pnet: NetWeights;
  rnet: NetWeights;
  onet: NetWeights;
}

/** Provenance recorded in the header: source file name -> sha256 (hex) of the file exported. */
export interface WeightsMeta {
  sources: Record<string, string>;
}

/** One tensor as the header lists it. */
interface TensorEntry {
  net: NetName;
  layer: string;
  param: string;
  shape: number[];
  /** Byte offset of the first value, relative to the start of the data section. */
  offset: number;
  /** CRC-32 of the tensor's 4 * prod(shape) bytes, 8 lowercase hex digits. */
  crc32: string;
}

interface WeightsHeader extends WeightsMeta {
  tensors: TensorEntry[];
  /** Byte offset of the data section in the file. */
  dataStart: number;
}

/** "MTCNNWTS": says what the file is to a reader with a hex dump. */
const MAGIC = 'MTCNNWTS';
/** Bump when the layout changes; older files are then refused with a hint to re-export. */
const FORMAT_VERSION = 1;
/** magic (8) + version (4) + header length (4) + header CRC (4). */
const PREAMBLE_BYTES = 20;
/** Tensor data alignment: 8 covers Float32Array views (4) with room for float64 or SIMD loads. */
const ALIGN = 8;
const F32_BYTES = Float32Array.BYTES_PER_ELEMENT;
const NET_NAMES: readonly NetName[] = ['pnet', 'rnet', 'onet'];
const REGENERATE = 'Regenerate weights/mtcnn.bin with `npm run weights`.';

function bad(message: string): MtcnnError {
  return new MtcnnError('BAD_WEIGHTS', `weights file: ${message}`);
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

function toBytes(bytes: ArrayBuffer | Uint8Array): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw bad(`expected an ArrayBuffer or Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
}

/** Reads and checks the preamble and JSON header (not the tensors' data). */
function readHeader(input: ArrayBuffer | Uint8Array): WeightsHeader {
  const bytes = toBytes(input);
  if (bytes.length === 0) throw bad(`empty input (0 bytes). ${REGENERATE}`);
  const magicLen = Math.min(bytes.length, MAGIC.length);
  for (let i = 0; i < magicLen; i++) {
    if (bytes[i] !== MAGIC.charCodeAt(i)) {
      const seen = JSON.stringify(String.fromCharCode(...bytes.subarray(0, magicLen)));
      throw bad(`bad magic ${seen}, expected "${MAGIC}": not an mtcnn-ts weights file. ` + REGENERATE);
    }
  }
  if (bytes.length < PREAMBLE_BYTES) {
    throw bad(`truncated: ${bytes.length} bytes, the fixed header alone needs ${PREAMBLE_BYTES}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION) {
    throw bad(
      `format version ${version}, this build of mtcnn-ts reads version ${FORMAT_VERSION}. ` + REGENERATE,
    );
  }
  const headerLen = view.getUint32(12, true);
  const dataStart = PREAMBLE_BYTES + headerLen;
  if (dataStart > bytes.length) {
    throw bad(
      `truncated inside the header: it ends at byte ${dataStart}, the file has ${bytes.length} bytes`,
    );
  }
  const headerBytes = bytes.subarray(PREAMBLE_BYTES, dataStart);
  const headerCrc = view.getUint32(16, true);
  if (crc32(headerBytes) !== headerCrc) {
    throw bad(`header checksum mismatch: the header is corrupted. ${REGENERATE}`);
  }
  if (dataStart % ALIGN !== 0) {
    throw bad(`header length ${headerLen} leaves the data unaligned (start ${dataStart})`);
  }

  // ASCII only (the writer escapes anything else), so bytes map to chars one to one.
  let text = '';
  for (let i = 0; i < headerBytes.length; i++) {
    if (headerBytes[i] > 0x7f) throw bad(`header byte ${PREAMBLE_BYTES + i} is not ASCII`);
    text += String.fromCharCode(headerBytes[i]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw bad(`header is not valid JSON (${(e as Error).message})`);
  }
  const h = json as { sources?: unknown; tensors?: unknown };
  if (typeof h !== 'object' || h === null || !Array.isArray(h.tensors)) {
    throw bad('header has no "tensors" list');
  }
  if (typeof h.sources !== 'object' || h.sources === null) throw bad('header has no "sources" object');
  const sources: Record<string, string> = {};
  for (const [name, digest] of Object.entries(h.sources)) {
    if (typeof digest !== 'string') throw bad(`header source ${JSON.stringify(name)} is not a string`);
    sources[name] = digest;
  }
  return { sources, tensors: h.tensors.map(checkEntry), dataStart };
}

/** Checks one header entry's fields and types; returns it typed. */
function checkEntry(raw: unknown, index: number): TensorEntry {
  const problem = entryProblem(raw as Partial<Record<keyof TensorEntry, unknown>>);
  if (problem !== null) throw bad(`header tensor entry ${index} ${JSON.stringify(raw)}: ${problem}`);
  return raw as TensorEntry;
}

function entryProblem(e: Partial<Record<keyof TensorEntry, unknown>>): string | null {
  const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (typeof e !== 'object' || e === null) return 'not an object';
  if (!NET_NAMES.includes(e.net as NetName)) return `net must be one of ${NET_NAMES.join(', ')}`;
  if (typeof e.layer !== 'string' || typeof e.param !== 'string') {
    return 'layer and param must be strings';
  }
  if (!Array.isArray(e.shape) || !e.shape.every(isCount)) return 'shape must be a list of sizes';
  if (!isCount(e.offset)) return 'offset must be a byte count';
  if (typeof e.crc32 !== 'string' || !/^[0-9a-f]{8}$/.test(e.crc32)) return 'crc32 must be 8 hex digits';
  return null;
}

/**
 * Parses a weights file and checks it completely: magic, version, header,
 * every tensor against schema.ts (missing, unexpected, wrong shape), each
 * tensor's bounds and alignment, and each tensor's CRC-32.
 *
 * The returned arrays are views into `bytes` where alignment allows (do not
 * modify `bytes` afterwards), copies otherwise.
 * @throws MtcnnError('BAD_WEIGHTS') naming the problem, and the tensor where there is one.
 */
export function parseWeights(bytes: ArrayBuffer | Uint8Array): MtcnnWeights {
  const file = toBytes(bytes);
  const header = readHeader(file);
  const dataLen = file.length - header.dataStart;

  // Names and shapes against the schema, net by net.
  const byNet = new Map<NetName, Map<string, TensorEntry>>();
  for (const name of NET_NAMES) byNet.set(name, new Map());
  for (const e of header.tensors) {
    const entries = byNet.get(e.net)!;
    const key = tensorKey(e.layer, e.param);
    if (entries.has(key)) throw bad(`tensor ${e.net} ${key} is listed twice`);
    entries.set(key, e);
  }
  for (const spec of SCHEMA) {
    const entries = byNet.get(spec.net)!;
    const shapes = new Map<string, number[]>();
    for (const [key, e] of entries) shapes.set(key, e.shape);
    checkAgainstSchema(spec, shapes, `weights file, ${spec.net}`);
  }

  // Bounds in file order, so a truncated file names the first tensor it cuts.
  const ordered = header.tensors.slice().sort((a, b) => a.offset - b.offset);
  let prevEnd = 0;
  let prevName = '';
  for (const e of ordered) {
    const name = `${e.net} ${tensorKey(e.layer, e.param)}`;
    const end = e.offset + product(e.shape) * F32_BYTES;
    if (e.offset % ALIGN !== 0) {
      throw bad(`tensor ${name}: offset ${e.offset} is not a multiple of ${ALIGN}`);
    }
    if (e.offset < prevEnd) throw bad(`tensor ${name} overlaps ${prevName}`);
    if (end > dataLen) {
      throw bad(
        `truncated: tensor ${name} needs data bytes ${e.offset}..${end}, ` +
          `the file has ${dataLen} data bytes (${file.length} in all)`,
      );
    }
    prevEnd = end;
    prevName = name;
  }

  const out = { pnet: {}, rnet: {}, onet: {} } as MtcnnWeights;
  for (const spec of SCHEMA) {
    const entries = byNet.get(spec.net)!;
    for (const t of spec.tensors) {
      const key = tensorKey(t.layer, t.param);
      const e = entries.get(key)!;
      const start = header.dataStart + e.offset;
      const count = product(e.shape);
      const raw = file.subarray(start, start + count * F32_BYTES);
      const crc = crc32(raw).toString(16).padStart(8, '0');
      if (crc !== e.crc32) {
        throw bad(
          `checksum mismatch in tensor ${spec.net} ${key}: crc32 ${crc}, ` +
            `the header says ${e.crc32} (corrupted data)`,
        );
      }
      // Zero-copy when the tensor's absolute address is float-aligned; the
      // file layout guarantees it whenever the buffer itself is 8-aligned.
      const aligned = (file.byteOffset + start) % F32_BYTES === 0;
      let data: Float32Array;
      if (aligned) {
        data = new Float32Array(file.buffer, file.byteOffset + start, count);
      } else {
        data = new Float32Array(count); // not raw.slice(): on a Node Buffer that is a view too
        new Uint8Array(data.buffer).set(raw);
      }
      out[spec.net][key] = { shape: e.shape.slice(), data };
    }
  }
  return out;
}

/** Escapes every non-ASCII character, so the header is ASCII and its bytes are its chars. */
function asciiJson(value: unknown): string {
  const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, escape);
}

/**
 * Writes `w` in the format above, tensors in schema order (pnet, rnet, onet;
 * forward order within each). The output is deterministic: the same weights
 * and meta give the same bytes.
 * @throws MtcnnError('BAD_WEIGHTS') when `w` does not match schema.ts or a
 *   tensor's data length is not the product of its shape.
 */
export function serializeWeights(w: MtcnnWeights, meta: WeightsMeta = { sources: {} }): Uint8Array {
  const entries: TensorEntry[] = [];
  const payloads: Uint8Array[] = [];
  let offset = 0;
  for (const spec of SCHEMA) {
    const net = w[spec.net];
    if (typeof net !== 'object' || net === null) throw bad(`serialize: no ${spec.net} weights`);
    const shapes = new Map<string, number[]>();
    for (const [key, t] of Object.entries(net)) shapes.set(key, t.shape);
    checkAgainstSchema(spec, shapes, `serialize, ${spec.net}`);
    for (const t of spec.tensors) {
      const key = tensorKey(t.layer, t.param);
      const { shape, data } = net[key];
      if (!(data instanceof Float32Array) || data.length !== product(shape)) {
        throw bad(
          `serialize: tensor ${spec.net} ${key} must hold ${product(shape)} float32 values ` +
            `for shape ${showShape(shape)}`,
        );
      }
      const payload = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const crc = crc32(payload).toString(16).padStart(8, '0');
      const { layer, param } = t;
      entries.push({ net: spec.net, layer, param, shape: shape.slice(), offset, crc32: crc });
      payloads.push(payload);
      offset += Math.ceil(payload.length / ALIGN) * ALIGN;
    }
  }

  // One entry per line, so `head -c 4000 mtcnn.bin` reads like a table.
  const lines = entries.map(asciiJson).join(',\n');
  let text = `{"sources":${asciiJson(meta.sources)},\n"tensors":[\n${lines}\n]}\n`;
  text += ' '.repeat((ALIGN - ((PREAMBLE_BYTES + text.length) % ALIGN)) % ALIGN);
  const dataStart = PREAMBLE_BYTES + text.length;

  const out = new Uint8Array(dataStart + offset); // zero-filled: alignment padding stays 0
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC.charCodeAt(i);
  for (let i = 0; i < text.length; i++) out[PREAMBLE_BYTES + i] = text.charCodeAt(i);
  const view = new DataView(out.buffer);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, text.length, true);
  view.setUint32(16, crc32(out.subarray(PREAMBLE_BYTES, dataStart)), true);
  for (let i = 0; i < entries.length; i++) out.set(payloads[i], dataStart + entries[i].offset);
  return out;
}

/**
 * Checks that `w` is a complete set of weights, as parseWeights() returns
 * them: an object with pnet, rnet and onet, each holding exactly the tensors
 * of schema.ts with their shapes, each a Float32Array of prod(shape) values.
 * The Detector calls it once, so a wrong object (the file's bytes, a
 * half-built object) is refused by name instead of failing inside a net.
 * @throws MtcnnError('BAD_WEIGHTS') naming the net and tensor.
 */
export function checkWeights(w: MtcnnWeights, where = 'weights'): void {
  const hint = '(use parseWeights() or loadWeightsFile())';
  if (w === null || typeof w !== 'object') {
    throw new MtcnnError('BAD_WEIGHTS', `${where}: expected an object {pnet, rnet, onet} ${hint}, got ${show(w)}`);
  }
  for (const spec of SCHEMA) {
    const net: unknown = w[spec.net];
    if (net === null || typeof net !== 'object') {
      throw new MtcnnError('BAD_WEIGHTS', `${where}: ${spec.net} must be an object of tensors ${hint}, got ${show(net)}`);
    }
    const shapes = new Map<string, number[]>();
    for (const [key, t] of Object.entries(net as Record<string, Partial<Tensor> | null>)) {
      const shape = t?.shape;
      if (!Array.isArray(shape) || !(t?.data instanceof Float32Array) || t.data.length !== product(shape)) {
        throw new MtcnnError('BAD_WEIGHTS', `${where}: ${spec.net} ${key} must be {shape, data: Float32Array of prod(shape) values}`);
      }
      shapes.set(key, shape);
    }
    checkAgainstSchema(spec, shapes, `${where}, ${spec.net}`);
  }
}
