/**
 * The weights path end to end: facenet's det*.npy -> unpickler -> exporter ->
 * weights file -> parseWeights / loadWeightsFile, against golden/weights.json
 * (sha256 of every tensor, written by numpy), plus every way a file can be
 * wrong. File layouts are read back here independently (DataView + node:zlib's
 * crc32), not through the parser under test.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { MtcnnError } from '../src/errors.ts';
import { writeNpy } from '../src/io/npy.ts';
import { DEFAULT_WEIGHTS_PATH, loadWeightsFile } from '../src/node/weights.ts';
import { crc32 } from '../src/weights/crc32.ts';
import { parseWeights, serializeWeights } from '../src/weights/format.ts';
import type { MtcnnWeights, NetName, Tensor } from '../src/weights/format.ts';
import { SCHEMA, tensorKey } from '../src/weights/schema.ts';
import { exportWeights, main } from '../weights/export.ts';
import { readFacenetNpy, unpickle } from '../weights/unpickle.ts';
import { sha256 } from './helpers/check.ts';
import { dataPath, readJson } from './helpers/data.ts';

interface GoldenTensor {
  dtype: string;
  shape: number[];
  sha256: string;
  first: number[];
  sum: number;
}
/** golden/weights.json: source file stem (det1..3) -> 'layer/param' -> digest. */
type GoldenWeights = Record<string, Record<string, GoldenTensor>>;

const Weights = suite('weights');

const tmp = mkdtempSync(join(tmpdir(), 'mtcnn-weights-test-'));
const exportedPath = join(tmp, 'mtcnn.bin');
let fileBytes: Uint8Array; // the export to `exportedPath`, read back

Weights.before(() => {
  const result = exportWeights({ from: dataPath('weights'), out: exportedPath });
  assert.is(result.status, 'written', result.message);
  fileBytes = new Uint8Array(readFileSync(exportedPath));
});
Weights.after(() => rmSync(tmp, { recursive: true, force: true }));

// ---- an independent reading of the file layout (weights/README.md) ----

interface Entry {
  net: NetName;
  layer: string;
  param: string;
  shape: number[];
  offset: number;
  crc32: string;
}
interface Split {
  header: { sources: Record<string, string>; tensors: Entry[] };
  dataStart: number;
  data: Uint8Array;
}

const MAGIC = 'MTCNNWTS';
const PREAMBLE = 20; // magic 8, version u32, header length u32, header crc u32

function split(bytes: Uint8Array): Split {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getUint32(12, true);
  const text = new TextDecoder().decode(bytes.subarray(PREAMBLE, PREAMBLE + headerLen));
  const dataStart = PREAMBLE + headerLen;
  return { header: JSON.parse(text), dataStart, data: bytes.subarray(dataStart) };
}

/** A file with this header over this data section, laid out per the spec. */
function build(header: Split['header'], data: Uint8Array, version = 1): Uint8Array {
  let text = JSON.stringify(header);
  while ((PREAMBLE + text.length) % 8 !== 0) text += ' ';
  const out = new Uint8Array(PREAMBLE + text.length + data.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const headerBytes = new TextEncoder().encode(text);
  out.set(headerBytes, PREAMBLE);
  const view = new DataView(out.buffer);
  view.setUint32(8, version, true);
  view.setUint32(12, headerBytes.length, true);
  view.setUint32(16, zlibCrc32(headerBytes), true);
  out.set(data, PREAMBLE + text.length);
  return out;
}

/** The file with its header changed by `edit`, data untouched. */
function withHeader(bytes: Uint8Array, edit: (h: Split['header']) => void): Uint8Array {
  const s = split(bytes);
  edit(s.header);
  return build(s.header, s.data);
}

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const bytes = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return Buffer.compare(bytes(a), bytes(b)) === 0;
}

function findEntry(h: Split['header'], net: NetName, layer: string, param: string): Entry {
  return h.tensors.find((e) => e.net === net && e.layer === layer && e.param === param)!;
}

/** Asserts `fn` throws MtcnnError(code) and that its message matches every pattern. */
function throwsMtcnn(fn: () => unknown, code: string, ...patterns: RegExp[]): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof MtcnnError)) throw e;
    assert.is(e.code, code, e.message);
    for (const p of patterns) assert.match(e.message, p);
    return;
  }
  assert.unreachable(`expected MtcnnError ${code}`);
}

function parseFails(bytes: Uint8Array, ...patterns: RegExp[]): void {
  throwsMtcnn(() => parseWeights(bytes), 'BAD_WEIGHTS', ...patterns);
}

function checkAgainstGolden(w: MtcnnWeights, label: string): void {
  const golden = readJson<GoldenWeights>('golden', 'weights.json');
  let count = 0;
  for (const spec of SCHEMA) {
    const expected = golden[spec.source.replace('.npy', '')];
    const keys = Object.keys(w[spec.net]).sort();
    assert.equal(keys, Object.keys(expected).sort(), `${label} ${spec.net} keys`);
    for (const [key, g] of Object.entries(expected)) {
      const t = w[spec.net][key];
      const name = `${label} ${spec.net} ${key}`;
      assert.is(g.dtype, 'float32');
      assert.equal(t.shape, g.shape, `${name} shape`);
      assert.is(sha256(t.data), g.sha256, `${name} sha256`);
      assert.equal(Array.from(t.data.subarray(0, g.first.length)), g.first, `${name} first values`);
      let sum = 0;
      for (let i = 0; i < t.data.length; i++) sum += t.data[i];
      const rel = Math.abs(sum - g.sum) / Math.abs(g.sum);
      assert.ok(rel <= 1e-9, `${name} sum ${sum}, expected ${g.sum} (relative error ${rel})`);
      count++;
    }
  }
  assert.is(count, 50, 'tensors checked');
}

// ---- CRC-32 and the schema ----

Weights('crc32: the standard check value, zlib on random bytes, and chaining', () => {
  // 0xCBF43926 is CRC-32/ISO-HDLC's published check value for the ASCII string "123456789".
  assert.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.is(crc32(new Uint8Array(0)), 0);
  const bytes = new Uint8Array(4099);
  let seed = 12345;
  for (let i = 0; i < bytes.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    bytes[i] = seed >>> 24;
  }
  assert.is(crc32(bytes), zlibCrc32(bytes));
  assert.is(crc32(bytes.subarray(1000), crc32(bytes.subarray(0, 1000))), zlibCrc32(bytes));
});

Weights('schema.ts lists exactly the tensors and shapes of golden/weights.json', () => {
  const golden = readJson<GoldenWeights>('golden', 'weights.json');
  assert.equal(SCHEMA.map((s) => s.net), ['pnet', 'rnet', 'onet']);
  assert.equal(SCHEMA.map((s) => s.source), ['det1.npy', 'det2.npy', 'det3.npy']);
  assert.equal(Object.keys(golden).sort(), ['det1', 'det2', 'det3']);
  for (const spec of SCHEMA) {
    const fromSchema: Record<string, readonly number[]> = {};
    for (const t of spec.tensors) fromSchema[tensorKey(t.layer, t.param)] = t.shape;
    const fromGolden: Record<string, number[]> = {};
    for (const [key, g] of Object.entries(golden[spec.source.replace('.npy', '')])) fromGolden[key] = g.shape;
    assert.equal(fromSchema, fromGolden, spec.net);
  }
});

// ---- the export and the format ----

Weights('export: every tensor matches golden/weights.json (shape, sha256, first values, sum)', () => {
  checkAgainstGolden(parseWeights(fileBytes), 'export');
});

Weights('export: the file follows the spec (read back with DataView and zlib.crc32)', () => {
  const view = new DataView(fileBytes.buffer, fileBytes.byteOffset, fileBytes.byteLength);
  assert.is(new TextDecoder().decode(fileBytes.subarray(0, 8)), MAGIC);
  assert.is(view.getUint32(8, true), 1, 'version');
  const { header, dataStart, data } = split(fileBytes);
  assert.is(view.getUint32(16, true), zlibCrc32(fileBytes.subarray(PREAMBLE, dataStart)), 'header crc');
  assert.is(dataStart % 8, 0, 'data start aligned');
  const sources = readFileSync(dataPath('weights', 'det1.npy'));
  assert.is(header.sources['det1.npy'], sha256(sources), 'source digest recorded');
  assert.equal(Object.keys(header.sources), ['det1.npy', 'det2.npy', 'det3.npy']);
  assert.is(header.tensors.length, 50);
  let end = 0;
  for (const e of header.tensors) {
    const n = e.shape.reduce((a, b) => a * b, 1) * 4;
    assert.is(e.offset % 8, 0, `${e.net} ${e.layer}/${e.param} aligned`);
    assert.ok(e.offset >= end, 'tensors in file order, no overlap');
    assert.is(zlibCrc32(data.subarray(e.offset, e.offset + n)).toString(16).padStart(8, '0'), e.crc32);
    end = e.offset + n;
  }
  assert.is(Math.ceil(end / 8) * 8, data.length, 'no trailing bytes');
});

Weights('export: skipped when up to date, redone when the output is corrupt', () => {
  const again = exportWeights({ from: dataPath('weights'), out: exportedPath });
  assert.is(again.status, 'up-to-date', again.message);
  assert.match(again.message, /up to date/);
  const broken = fileBytes.slice();
  broken[broken.length - 3] ^= 0xff;
  writeFileSync(exportedPath, broken);
  const redo = exportWeights({ from: dataPath('weights'), out: exportedPath });
  assert.is(redo.status, 'written', redo.message);
  assert.ok(sameBytes(readFileSync(exportedPath), fileBytes), 'rewritten byte for byte');
});

Weights('default weights/mtcnn.bin: exported, loads, equals the test export, zero-copy', () => {
  const result = exportWeights({ from: dataPath('weights') }); // the default output path
  assert.is(result.out, DEFAULT_WEIGHTS_PATH);
  assert.ok(result.status === 'written' || result.status === 'up-to-date', result.message);
  const w = loadWeightsFile();
  checkAgainstGolden(w, 'default file');
  const views = w.pnet['conv1/weights'].data.buffer === w.onet['conv6-3/biases'].data.buffer;
  assert.ok(views, 'views into one file buffer');
});

Weights('round trip: serialize(parse(file)) is the file; parse(serialize(w)) is w', () => {
  const w = parseWeights(fileBytes);
  const again = serializeWeights(w, { sources: split(fileBytes).header.sources });
  assert.ok(sameBytes(again, fileBytes), 'same bytes');
  const noMeta = parseWeights(serializeWeights(w));
  for (const spec of SCHEMA) {
    for (const [key, t] of Object.entries(w[spec.net])) {
      assert.equal(noMeta[spec.net][key].shape, t.shape);
      assert.ok(sameBytes(noMeta[spec.net][key].data, t.data), `${spec.net} ${key}`);
    }
  }
  assert.equal(split(serializeWeights(w)).header.sources, {});
});

Weights('parse: views into an aligned ArrayBuffer, copies from an unaligned Uint8Array', () => {
  const aligned = fileBytes.slice().buffer;
  const a = parseWeights(aligned);
  assert.ok(a.rnet['conv4/weights'].data.buffer === aligned);
  const shifted = new Uint8Array(fileBytes.length + 1);
  shifted.set(fileBytes, 1);
  const b = parseWeights(shifted.subarray(1));
  assert.ok(b.rnet['conv4/weights'].data.buffer !== shifted.buffer);
  assert.ok(sameBytes(b.rnet['conv4/weights'].data, a.rnet['conv4/weights'].data));
});

// ---- bad files ----

Weights('parse refuses: empty input, wrong magic, wrong version', () => {
  throwsMtcnn(() => parseWeights(new Uint8Array(0)), 'BAD_WEIGHTS', /empty input/);
  throwsMtcnn(() => parseWeights(new ArrayBuffer(0)), 'BAD_WEIGHTS', /empty input/);
  const magic = fileBytes.slice();
  magic[0] = 0x58;
  parseFails(magic, /bad magic "XTCNNWTS"/, /npm run weights/);
  parseFails(readFileSync(dataPath('weights', 'det1.npy')), /bad magic/);
  const s = split(fileBytes);
  parseFails(build(s.header, s.data, 2), /format version 2/, /reads version 1/, /npm run weights/);
});

Weights('parse refuses a truncated file, naming the first tensor cut', () => {
  const { header, dataStart } = split(fileBytes);
  parseFails(fileBytes.subarray(0, 3), /truncated: 3 bytes/);
  parseFails(fileBytes.subarray(0, 19), /truncated: 19 bytes/);
  for (const cut of [20, 100, dataStart - 1]) {
    parseFails(fileBytes.subarray(0, cut), /truncated inside the header/);
  }
  const byOffset = header.tensors.slice().sort((a, b) => a.offset - b.offset);
  const end = fileBytes.length;
  const cuts = [dataStart, dataStart + 501, dataStart + 300_000, Math.floor(end / 2), end - 1];
  const named = new Set<string>();
  for (const cut of cuts) {
    const dataLen = cut - dataStart;
    const first = byOffset.find((e) => e.offset + e.shape.reduce((a, b) => a * b, 1) * 4 > dataLen)!;
    const name = `${first.net} ${first.layer}/${first.param}`;
    named.add(name);
    parseFails(fileBytes.subarray(0, cut), /truncated/, new RegExp(`tensor ${name} `));
  }
  assert.ok(named.has('pnet conv1/weights') && named.has('onet conv6-3/biases'), [...named].join(', '));
  assert.ok(named.size >= 4, 'the cuts land in different tensors');
});

Weights('parse refuses a flipped byte: in a tensor (named), in the header', () => {
  const { header, dataStart } = split(fileBytes);
  const flipped = fileBytes.slice();
  flipped[dataStart + findEntry(header, 'rnet', 'conv4', 'weights').offset + 1234] ^= 0x10;
  parseFails(flipped, /checksum mismatch in tensor rnet conv4\/weights/);
  const inHeader = fileBytes.slice();
  inHeader[PREAMBLE + 40] ^= 0x01;
  parseFails(inHeader, /header checksum mismatch/);
});

Weights('parse refuses a bad tensor table: shape, missing, extra, twice, misaligned, overlap', () => {
  const wrongShape = withHeader(fileBytes, (h) => {
    findEntry(h, 'rnet', 'conv4', 'weights').shape = [576, 64];
  });
  parseFails(wrongShape, /rnet: tensor conv4\/weights has shape \[576, 64\], rnet needs \[576, 128\]/);
  const missing = withHeader(fileBytes, (h) => {
    h.tensors = h.tensors.filter((e) => !(e.net === 'pnet' && e.layer === 'PReLU2'));
  });
  parseFails(missing, /pnet: missing tensor PReLU2\/alpha/);
  const extra = withHeader(fileBytes, (h) => {
    h.tensors.push({ ...h.tensors[h.tensors.length - 1], layer: 'conv7' });
  });
  parseFails(extra, /onet: unexpected tensor conv7\/biases/);
  const twice = withHeader(fileBytes, (h) => {
    h.tensors.push({ ...h.tensors[0] });
  });
  parseFails(twice, /pnet conv1\/weights is listed twice/);
  const misaligned = withHeader(fileBytes, (h) => {
    h.tensors[3].offset += 4;
  });
  parseFails(misaligned, /pnet conv2\/weights: offset \d+ is not a multiple of 8/);
  const overlapping = withHeader(fileBytes, (h) => {
    h.tensors[1].offset = h.tensors[0].offset;
  });
  parseFails(overlapping, /tensor pnet conv1\/biases overlaps pnet conv1\/weights/);
});

Weights('serialize refuses weights that do not match the schema', () => {
  const w = parseWeights(fileBytes);
  const { ['conv4/biases']: _dropped, ...rnet } = w.rnet;
  throwsMtcnn(() => serializeWeights({ ...w, rnet }), 'BAD_WEIGHTS', /rnet: missing tensor conv4\/biases/);
  const alpha = { shape: [256], data: new Float32Array(255) };
  const short = { ...w, onet: { ...w.onet, 'prelu5/alpha': alpha } };
  throwsMtcnn(() => serializeWeights(short), 'BAD_WEIGHTS', /onet prelu5\/alpha must hold 256 float32/);
});

Weights('loadWeightsFile: a missing file is NOT_FOUND, a bad one names the path', () => {
  const missing = join(tmp, 'nope.bin');
  throwsMtcnn(() => loadWeightsFile(missing), 'NOT_FOUND', /nope\.bin/, /npm run weights/);
  const bad = join(tmp, 'bad.bin');
  writeFileSync(bad, fileBytes.subarray(0, 1000));
  throwsMtcnn(() => loadWeightsFile(bad), 'BAD_WEIGHTS', /bad\.bin: weights file: truncated/);
});

// ---- the unpickler ----

/** Bytes from a mix of byte values and latin-1 strings. */
function pickle(...parts: (number | string)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else for (let i = 0; i < p.length; i++) out.push(p.charCodeAt(i));
  }
  return new Uint8Array(out);
}

Weights('unpickler: a Fortran-order float32 array comes out in C order', () => {
  // np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3)) pickled by hand, as numpy
  // does: raw data in Fortran order is 0 3 1 4 2 5, the array [[0, 1, 2], [3, 4, 5]].
  const raw = new Uint8Array(new Float32Array([0, 3, 1, 4, 2, 5]).buffer);
  const bytes = pickle(
    0x80, 2, // PROTO 2
    'cnumpy.core.multiarray\n_reconstruct\n', 'cnumpy\nndarray\n', 'K', 0, 0x85, 'U', 1, 'b', 0x87, 'R',
    '(', 'K', 1, 'K', 2, 'K', 3, 0x86, // MARK, version 1, shape (2, 3)
    'cnumpy\ndtype\n', 'U', 2, 'f4', 'K', 0, 'K', 1, 0x87, 'R', // dtype('f4', 0, 1)
    // dtype state (3, '<', None, None, None, -1, -1, 0)
    '(', 'K', 3, 'U', 1, '<', 'N', 'N', 'N', 'J', 255, 255, 255, 255, 'J', 255, 255, 255, 255, 'K', 0,
    't', 'b',
    0x88, 'T', 24, 0, 0, 0, String.fromCharCode(...raw), // is_fortran True, 24 raw bytes
    't', 'b', '.',
  );
  const arr = unpickle(bytes, 0, 'hand-made') as { kind: string; value: Tensor };
  assert.is(arr.kind, 'ndarray');
  assert.equal(arr.value.shape, [2, 3]);
  assert.equal(Array.from(arr.value.data), [0, 1, 2, 3, 4, 5]);
});

Weights('unpickler refuses unknown opcodes and globals, naming them and their offset', () => {
  // 'I' is protocol 0's INT, which facenet's files never use.
  const fails = (bytes: Uint8Array, pattern: RegExp) =>
    throwsMtcnn(() => unpickle(bytes, 0, 'x.npy'), 'BAD_NPY', pattern);
  fails(pickle(0x80, 2, 'I42\n', '.'), /^x\.npy: pickle opcode 0x49 at byte 2: unsupported opcode 'I'$/);
  fails(pickle(0x80, 2, 0x8a, 1, 1, '.'), /opcode 0x8a at byte 2: unsupported opcode$/); // LONG1
  fails(pickle(0x80, 2, 'cos\nsystem\n', '.'), /at byte 2: unsupported global os\.system/);
  fails(pickle(0x80, 3, '.'), /PROTO 3, expected 2/);
  fails(pickle(0x80, 2, 'T', 9, 0, 0, 0, 'abc'), /opcode 0x54 at byte 2: truncated/);
  fails(pickle(0x80, 2, 'N'), /^x\.npy: pickle at byte 3, the end of the file: truncated \(no STOP\)$/);
});

Weights('readFacenetNpy refuses a numeric .npy and a truncated det1.npy', () => {
  const plain = writeNpy({ dtype: 'float32', shape: [2], data: new Float32Array(2) });
  const objectArray = /plain\.npy: expected a pickled 0-d object array/;
  throwsMtcnn(() => readFacenetNpy(plain, 'plain.npy'), 'BAD_NPY', objectArray);
  const det1 = readFileSync(dataPath('weights', 'det1.npy'));
  const cut = det1.subarray(0, 20000); // inside conv2/weights' raw bytes
  throwsMtcnn(() => readFacenetNpy(cut, 'det1.npy'), 'BAD_NPY', /det1\.npy: pickle opcode .* truncated/);
});

// ---- the exporter's command line ----

Weights('exporter: says what to download when sources are missing; exit 1, 0 with --if-available', () => {
  const empty = join(tmp, 'empty');
  mkdirSync(empty, { recursive: true });
  const out = join(tmp, 'never.bin');
  const result = exportWeights({ from: empty, out });
  assert.is(result.status, 'not-found');
  const words = ['det1.npy', 'det2.npy', 'det3.npy', 'github.com/davidsandberg/facenet', 'src/align'];
  for (const word of [...words, '--from', 'MTCNN_WEIGHTS_DIR', empty]) {
    assert.ok(result.message.includes(word), `message names ${word}:\n${result.message}`);
  }
  const printed: string[] = [];
  const print = (text: string) => void printed.push(text);
  assert.is(main(['--from', empty, '--out', out], {}, print), 1);
  assert.is(main(['--from', empty, '--out', out, '--if-available'], {}, print), 0);
  assert.match(printed[printed.length - 1], /github\.com[^]*Skipped for now \(--if-available\)/);
  assert.is(main(['--out', out], { MTCNN_WEIGHTS_DIR: empty }, print), 1);
  assert.match(printed[printed.length - 1], /\$MTCNN_WEIGHTS_DIR/);
  assert.throws(() => readFileSync(out), 'nothing written');

  writeFileSync(join(empty, 'det1.npy'), 'not numpy');
  const firstLine = exportWeights({ from: empty, out }).message.split('\n')[0];
  assert.match(firstLine, /: det2\.npy, det3\.npy not found/, 'names only the missing ones');
  writeFileSync(join(empty, 'det2.npy'), 'not numpy');
  writeFileSync(join(empty, 'det3.npy'), 'not numpy');
  const status = main(['--from', empty, '--out', out, '--if-available'], {}, print);
  assert.is(status, 1, 'bad files fail, even with --if-available');
  assert.match(printed[printed.length - 1], /export failed: .*det1\.npy: not an \.npy file/);
  assert.is(main(['--help'], {}, print), 0);
  assert.match(printed[printed.length - 1], /^Usage: /);
  assert.is(main(['--bogus'], {}, print), 1);
});

Weights.run();
