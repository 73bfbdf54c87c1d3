/**
 * src/node/png.ts against what the reference's reader, cv2.imread(IMREAD_COLOR)
 * + BGR->RGB, gives: all 176 PngSuite files (../shared/pngsuite, expected.json
 * and expected/*.npy from OpenCV 4.6), the shared photos (each golden trace's
 * image_digest), hand-built files for the rules PngSuite leaves implicit, and
 * damaged files: empty, not a PNG, truncated, randomly mutated.
 *
 * The hand-built cases' expectations were checked against cv2.imread (OpenCV
 * 4.6.0 with libpng 1.6) when they were written; the comment on each says what
 * libpng does there.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MtcnnError } from '../src/errors.ts';
import { readNpy } from '../src/io/npy.ts';
import { decodePng, readPng, type PngImage, type PngOptions } from '../src/node/png.ts';
import { checkEqual, sha256 } from './helpers/check.ts';
import { DATA_DIR, dataPath, readJson, traceNames } from './helpers/data.ts';
import { rng } from './helpers/random.ts';

/** Absolute path in ../shared/pngsuite (beside the MTCNN material); throws when it is missing. */
export function pngsuitePath(...parts: string[]): string {
  const p = join(DATA_DIR, '..', 'pngsuite', ...parts);
  if (!existsSync(p)) {
    throw new Error(
      `reference material missing: ${p}\n` +
        `The PNG tests need the PngSuite folder at ../shared/pngsuite, beside the MTCNN material.`,
    );
  }
  return p;
}

interface Expected {
  decoded: boolean;
  height?: number;
  width?: number;
  sha256?: string;
}

/** Why OpenCV refuses each corrupt PngSuite file (PngSuite's description), as we word it. */
const REFUSED: Record<string, RegExp> = {
  'xc1n0g08.png': /invalid colour type 1\b/, // color type 1
  'xc9n2c08.png': /invalid colour type 9\b/, // color type 9
  'xcrn0g04.png': /bad signature/, // added cr bytes
  'xcsn0g01.png': /CRC error in chunk IDAT/, // incorrect IDAT checksum
  'xd0n2c08.png': /invalid bit depth 0\b/, // bit-depth 0
  'xd3n2c08.png': /invalid bit depth 3\b/, // bit-depth 3
  'xd9n2c08.png': /invalid bit depth 99\b/, // bit-depth 99
  'xdtn0g01.png': /missing IDAT/, // missing IDAT chunk
  'xhdn0g08.png': /CRC error in chunk IHDR/, // incorrect IHDR checksum
  'xlfn0g04.png': /bad signature/, // added lf bytes
  'xs1n0g01.png': /bad signature/, // signature byte 1 MSBit reset to zero
  'xs2n0g01.png': /bad signature/, // signature byte 2 is a 'Q'
  'xs4n0g01.png': /bad signature/, // signature byte 4 lowercase
  'xs7n0g01.png': /bad signature/, // 7th byte a space instead of control-Z
};

/**
 * Runs fn, which must throw MtcnnError(code) with a message that starts with
 * `${name}: ` (the file it names) and matches `reason`.
 */
function throwsMtcnn(fn: () => unknown, code: string, name: string, reason: RegExp): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof MtcnnError)) {
      throw new Error(`${name}: expected MtcnnError(${code}), got ${String(e)}`);
    }
    assert.is(e.code, code, e.message);
    assert.ok(e.message.startsWith(`${name}: `), `message names ${name}: ${e.message}`);
    assert.match(e.message, reason);
    return;
  }
  throw new Error(`${name}: expected MtcnnError(${code}), nothing was thrown`);
}

function decodeFile(name: string, options?: PngOptions): PngImage {
  return readPng(pngsuitePath('images', name), options);
}

function readExpected(): Record<string, Expected> {
  const text = readFileSync(pngsuitePath('expected.json'), 'utf8');
  return JSON.parse(text) as Record<string, Expected>;
}

// ---- a minimal PNG writer for hand-built cases ----------------------------------------------

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One chunk: length, type, data, CRC (flipped in its low bit when badCrc). */
function chunk(type: string, data: ArrayLike<number> = [], badCrc = false): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  const crc = crc32(out.subarray(4, 8 + data.length));
  view.setUint32(8 + data.length, badCrc ? crc ^ 1 : crc);
  return out;
}

function ihdr(width: number, height: number, bitDepth: number, colorType: number, interlace = 0) {
  const d = new Uint8Array(13);
  const view = new DataView(d.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  d.set([bitDepth, colorType, 0, 0, interlace], 8);
  return chunk('IHDR', d);
}

/** IDAT holding `raw` (filter bytes included) zlib-compressed. */
const idat = (raw: ArrayLike<number>) => chunk('IDAT', deflateSync(new Uint8Array(raw)));
const iend = () => chunk('IEND');
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function png(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(8 + parts.reduce((s, p) => s + p.length, 0));
  out.set(SIGNATURE);
  let o = 8;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A zlib stream of `raw` whose adler32 checksum (its last 4 bytes) is wrong. */
function badAdler(raw: number[]): Uint8Array {
  const z = new Uint8Array(deflateSync(new Uint8Array(raw)));
  z[z.length - 1] ^= 1;
  return z;
}

/** Recomputes every chunk's CRC, so that damage inside a chunk reaches the decoder. */
function fixCrcs(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let pos = 8; pos + 12 <= bytes.length; ) {
    const length = view.getUint32(pos);
    if (pos + 12 + length > bytes.length) return;
    view.setUint32(pos + 8 + length, crc32(bytes.subarray(pos + 4, pos + 8 + length)));
    pos += 12 + length;
  }
}


const rgb = (img: PngImage) => Array.from(img.data);

// Building blocks of the hand-built cases: a 1x1 8-bit gray header, its one
// pixel (value 99, filter None), and an ancillary text chunk.
const GRAY_1X1 = ihdr(1, 1, 8, 0);
const PIXEL_99 = idat([0, 99]);
const TEXT = chunk('tEXt', [65, 0, 66]);
/** Rows [1 2 3] and [4 5 6] of a 3x2 gray image, compressed, to split across chunks. */
const Z_3X2 = deflateSync(new Uint8Array([0, 1, 2, 3, 0, 4, 5, 6]));

// ---- tests -----------------------------------------------------------------------------------

const Png = suite('png');
const tally = { identical: 0, decodable: 0, refused: 0, corrupt: 0 };

Png('PngSuite: every file OpenCV decodes gives its bytes exactly', () => {
  const expected = readExpected();
  const images = readdirSync(pngsuitePath('images')).filter((f) => f.endsWith('.png'));
  assert.is(images.length, 176, 'PngSuite images');
  assert.equal(Object.keys(expected).sort(), images.sort(), 'expected.json covers every image');
  for (const [name, e] of Object.entries(expected)) {
    if (!e.decoded) continue;
    tally.decodable++;
    const img = decodeFile(name);
    const npyPath = pngsuitePath('expected', name.replace(/\.png$/, '.npy'));
    const npy = readNpy(new Uint8Array(readFileSync(npyPath)), npyPath);
    assert.is(npy.dtype, 'uint8', `${name}: expected .npy dtype`);
    assert.equal(npy.shape, [e.height, e.width, 3], `${name}: expected .npy shape`);
    assert.equal([img.height, img.width], [e.height, e.width], `${name}: shape`);
    checkEqual(name, img.data, npy.data as Uint8Array);
    assert.is(sha256(img.data), e.sha256, `${name}: sha256`);
    tally.identical++;
  }
  assert.is(tally.decodable, 162);
});

Png('PngSuite: every file OpenCV refuses is refused, naming the file and the reason', () => {
  const expected = readExpected();
  const refused = Object.keys(expected).filter((n) => !expected[n].decoded);
  assert.equal(refused.sort(), Object.keys(REFUSED).sort(), 'the files OpenCV refuses');
  for (const name of refused) {
    tally.corrupt++;
    const path = pngsuitePath('images', name);
    throwsMtcnn(() => readPng(path), 'BAD_PNG', path, REFUSED[name]);
    throwsMtcnn(() => decodePng(readFileSync(path)), 'BAD_PNG', 'PNG', REFUSED[name]);
    tally.refused++;
  }
});

Png.after(() => {
  const { identical, decodable, refused, corrupt } = tally;
  console.log(
    `\npng: PngSuite decoded identical ${identical}/${decodable}, refused ${refused}/${corrupt}`,
  );
});

Png('shared photos equal each golden trace image_digest', () => {
  for (const name of traceNames()) {
    const trace = readJson('golden', name, 'trace.json');
    const img = readPng(dataPath('images', trace.image));
    assert.equal([img.height, img.width, 3], trace.image_digest.shape, `${name}: shape`);
    assert.is(sha256(img.data), trace.image_digest.sha256, `${name}: sha256 of the RGB bytes`);
  }
});

Png('16-bit samples keep their high byte (png_set_strip_16), not a rounded one', () => {
  // 0x12ff would round to 0x13; gray + alpha 0xabcd / alpha 0 keeps 0xab uncomposited.
  const gray = decodePng(png(ihdr(2, 1, 16, 0), idat([0, 0x12, 0xff, 0xff, 0x00]), iend()));
  assert.equal(rgb(gray), [0x12, 0x12, 0x12, 0xff, 0xff, 0xff]);
  const grayAlpha = decodePng(png(ihdr(1, 1, 16, 4), idat([0, 0xab, 0xcd, 0, 0]), iend()));
  assert.equal(rgb(grayAlpha), [0xab, 0xab, 0xab]);
});

Png('low bit depths widen to 8 bits; alpha and tRNS leave the colours as they are', () => {
  const g1 = decodePng(png(ihdr(3, 1, 1, 0), idat([0, 0b10100000]), iend()));
  assert.equal(rgb(g1), [255, 255, 255, 0, 0, 0, 255, 255, 255]);
  const g2 = decodePng(png(ihdr(4, 1, 2, 0), idat([0, 0b00011011]), iend()));
  assert.equal(rgb(g2), [0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255]);
  const g4 = decodePng(png(ihdr(2, 1, 4, 0), idat([0, 0x3c]), iend()));
  assert.equal(rgb(g4), [51, 51, 51, 204, 204, 204]);
  const rgba = decodePng(png(ihdr(1, 1, 8, 6), idat([0, 11, 22, 33, 0]), iend()));
  assert.equal(rgb(rgba), [11, 22, 33], 'alpha 0 is dropped, not composited');
  // tRNS naming the first pixel's colour: pngjs blacks that pixel out, OpenCV keeps it.
  const trns = chunk('tRNS', [0, 1, 0, 2, 0, 3]);
  const trnsRgb = decodePng(png(ihdr(2, 1, 8, 2), trns, idat([0, 1, 2, 3, 4, 5, 6]), iend()));
  assert.equal(rgb(trnsRgb), [1, 2, 3, 4, 5, 6]);
  const trnsGray = decodePng(png(ihdr(2, 1, 8, 0), chunk('tRNS', [0, 7]), idat([0, 7, 9]), iend()));
  assert.equal(rgb(trnsGray), [7, 7, 7, 9, 9, 9]);
});

Png('palettes: expanded; an index past the end reads black; a stray PLTE is ignored', () => {
  const plte = chunk('PLTE', [10, 20, 30, 40, 50, 60]);
  const trns = chunk('tRNS', [0, 128]);
  const withTrns = decodePng(png(ihdr(2, 1, 8, 3), plte, trns, idat([0, 0, 1]), iend()));
  assert.equal(rgb(withTrns), [10, 20, 30, 40, 50, 60]);
  const outOfRange = decodePng(png(ihdr(2, 1, 8, 3), plte, idat([0, 1, 5]), iend()));
  assert.equal(rgb(outOfRange), [40, 50, 60, 0, 0, 0]);
  // libpng warns about both and goes on.
  const inGray = decodePng(png(GRAY_1X1, chunk('PLTE', [1, 2, 3]), PIXEL_99, iend()));
  assert.equal(rgb(inGray), [99, 99, 99], 'PLTE in a grayscale file');
  const afterIdat = decodePng(png(ihdr(1, 1, 8, 2), idat([0, 1, 2, 3]), plte, iend()));
  assert.equal(rgb(afterIdat), [1, 2, 3], 'PLTE after IDAT in an RGB file');
});

Png('what libpng only warns about decodes: ancillary CRC error, extra data, split IDAT', () => {
  const cases: Record<string, Uint8Array> = {
    'bad CRC in tEXt': png(GRAY_1X1, chunk('tEXt', [65, 0, 66], true), PIXEL_99, iend()),
    'bytes after IEND': png(GRAY_1X1, PIXEL_99, iend(), [1, 2, 3, 4, 5]),
    'more image data than needed': png(GRAY_1X1, idat([0, 99, 0, 98, 7]), iend()),
    'an empty IDAT first': png(GRAY_1X1, chunk('IDAT'), PIXEL_99, iend()),
    'IDAT after another chunk, past the image': png(GRAY_1X1, PIXEL_99, TEXT, idat([0, 1]), iend()),
    // libpng stops inflating at the first surplus byte and never reaches the checksum.
    'bad adler32 after surplus': png(GRAY_1X1, chunk('IDAT', badAdler([0, 99, 0, 98])), iend()),
  };
  for (const [what, bytes] of Object.entries(cases)) {
    assert.equal(rgb(decodePng(bytes, what)), [99, 99, 99], what);
  }
  const twoIdat = [chunk('IDAT', Z_3X2.subarray(0, 5)), chunk('IDAT', Z_3X2.subarray(5))];
  const split = png(ihdr(3, 2, 8, 0), ...twoIdat, iend());
  assert.equal(rgb(decodePng(split)), [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6]);
});

Png('what libpng refuses is refused, with the reason', () => {
  const PAL_1X1 = ihdr(1, 1, 8, 3);
  const BAD_PLTE = chunk('PLTE', [1, 2, 3], true);
  const ABCD = chunk('ABCD', [1]);
  const ADAM7_2X2 = ihdr(2, 2, 8, 0, 1);
  const INDEX_0 = idat([0, 0]);
  const RGB_PLTE = chunk('PLTE', [1, 2, 3]);
  const cut = chunk('IDAT', deflateSync(new Uint8Array([0, 99])).subarray(0, 6));
  const gap = [chunk('IDAT', Z_3X2.subarray(0, 5)), TEXT, chunk('IDAT', Z_3X2.subarray(5))];
  const cases: [string, Uint8Array, RegExp][] = [
    ['PLTE CRC', png(PAL_1X1, BAD_PLTE, INDEX_0, iend()), /CRC error in chunk PLTE/],
    ['IEND CRC', png(GRAY_1X1, PIXEL_99, chunk('IEND', [], true)), /CRC error in chunk IEND/],
    ['ABCD chunk', png(GRAY_1X1, ABCD, PIXEL_99, iend()), /unknown critical chunk ABCD/],
    ['IHDR second', png(TEXT, GRAY_1X1, PIXEL_99, iend()), /missing IHDR: the first chunk is tEXt/],
    ['two IHDR', png(GRAY_1X1, GRAY_1X1, PIXEL_99, iend()), /duplicate IHDR/],
    ['no PLTE', png(PAL_1X1, INDEX_0, iend()), /missing PLTE before IDAT/],
    ['two PLTE', png(PAL_1X1, RGB_PLTE, RGB_PLTE, INDEX_0, iend()), /duplicate PLTE/],
    // libpng ignores the first (a warning), then fails on the second.
    ['two PLTE in gray', png(GRAY_1X1, RGB_PLTE, RGB_PLTE, PIXEL_99, iend()), /duplicate PLTE/],
    ['empty PLTE', png(PAL_1X1, chunk('PLTE'), INDEX_0, iend()), /invalid PLTE length 0/],
    ['PLTE of 4', png(PAL_1X1, chunk('PLTE', [1, 2, 3, 4]), INDEX_0, iend()), /PLTE length 4/],
    ['filter 5', png(GRAY_1X1, idat([5, 99]), iend()), /bad filter type 5 in row 0$/],
    ['filter 9', png(ADAM7_2X2, idat([0, 1, 0, 2, 9, 3, 4]), iend()), /9 in row 0 of pass 7/],
    ['short data', png(ihdr(2, 2, 8, 0), idat([0, 1, 2]), iend()), /not enough image data: 3 of 6/],
    ['adler32', png(GRAY_1X1, chunk('IDAT', badAdler([0, 99])), iend()), /incorrect data check/],
    ['zlib cut short', png(GRAY_1X1, cut, iend()), /zlib: unexpected end of file/],
    ['IDAT run split', png(ihdr(3, 2, 8, 0), ...gap, iend()), /zlib: unexpected end of file/],
    ['no IEND', png(GRAY_1X1, PIXEL_99), /truncated: file ends at byte 55, before the IEND chunk/],
    ['too wide', png(ihdr(1_000_001, 1, 8, 0), PIXEL_99, iend()), /1000001x1 exceeds libpng/],
    ['zero height', png(ihdr(1, 0, 8, 0), PIXEL_99, iend()), /invalid image size 1x0/],
    ['interlace 2', png(ihdr(1, 1, 8, 0, 2), PIXEL_99, iend()), /unknown interlace method 2/],
  ];
  for (const [what, bytes, reason] of cases) {
    throwsMtcnn(() => decodePng(bytes, what), 'BAD_PNG', what, reason);
  }
});

Png('empty, not a PNG, and truncated files are refused with the reason', () => {
  const empty = new Uint8Array(0);
  throwsMtcnn(() => decodePng(empty, 'empty.png'), 'BAD_PNG', 'empty.png', /: empty file$/);
  const notPng: Record<string, number[]> = {
    jpeg: [0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0],
    text: Array.from(new TextEncoder().encode('hello, world\n')),
    short: [0x89, 0x50, 0x4e],
  };
  for (const [what, bytes] of Object.entries(notPng)) {
    const reason = /not a PNG file \(bad signature\)/;
    throwsMtcnn(() => decodePng(new Uint8Array(bytes), what), 'BAD_PNG', what, reason);
  }
  const signatureOnly = new Uint8Array(SIGNATURE);
  const atSignatureEnd = /truncated: file ends at byte 8,/;
  throwsMtcnn(() => decodePng(signatureOnly, 'sig'), 'BAD_PNG', 'sig', atSignatureEnd);
  // Every cut of a small file, and cuts at 40 points of an interlaced one split
  // into 9 IDAT chunks: libpng reads on to IEND, so every cut fails.
  for (const [name, points] of [['basn0g01.png', Infinity], ['oi9n2c16.png', 40]] as const) {
    const whole = readFileSync(pngsuitePath('images', name));
    const step = Math.max(1, Math.floor(whole.length / points));
    for (let cut = 0; cut < whole.length; cut += step) {
      const reason = cut === 0 ? /empty file/ : cut < 8 ? /bad signature/ : /truncated: /;
      const label = `${name}[:${cut}]`;
      throwsMtcnn(() => decodePng(whole.subarray(0, cut), label), 'BAD_PNG', label, reason);
    }
  }
});

Png('readPng: a missing file is NOT_FOUND, a directory BAD_PNG, both naming the path', () => {
  const missing = join(tmpdir(), 'mtcnn-ts-no-such-file.png');
  throwsMtcnn(() => readPng(missing), 'NOT_FOUND', missing, /no such file/);
  throwsMtcnn(() => readPng(tmpdir()), 'BAD_PNG', tmpdir(), /cannot read \(EISDIR\)/);
});

Png('maxPixels: absurd sizes are refused from IHDR, before allocating', () => {
  // 100000 x 100000 is within libpng's per-side limit, but 10^10 pixels.
  const huge = png(ihdr(100_000, 100_000, 8, 2), idat([0, 1, 2, 3]), iend());
  const t0 = performance.now();
  const reason = /image size 100000x100000 exceeds maxPixels = 268435456/;
  throwsMtcnn(() => decodePng(huge, 'huge.png'), 'BAD_PNG', 'huge.png', reason);
  assert.ok(performance.now() - t0 < 100, 'refused at once');
  const path = pngsuitePath('images', 'basn2c08.png');
  const small = { maxPixels: 1023 };
  throwsMtcnn(() => readPng(path, small), 'BAD_PNG', path, /32x32 exceeds maxPixels = 1023/);
  assert.is(readPng(path, { maxPixels: 1024 }).width, 32);
  const badOption = (e: unknown) => e instanceof MtcnnError && e.code === 'BAD_OPTIONS';
  assert.throws(() => readPng(path, { maxPixels: 0 }), badOption);
});

Png('fuzz: 200 seeded mutations each decode to the IHDR shape or throw MtcnnError, quickly', () => {
  const random = rng(20240611);
  const files = ['basn2c08.png', 'basi0g04.png', 'basn3p02.png', 'basn6a16.png', 'oi4n2c16.png'];
  const seen = { decoded: 0, refused: 0, refusedPastCrc: 0 };
  let slowest = 0;
  for (let m = 0; m < 200; m++) {
    const name = files[m % files.length];
    const bytes = new Uint8Array(readFileSync(pngsuitePath('images', name)));
    const changes = 1 + Math.floor(random() * 3);
    for (let k = 0; k < changes; k++) {
      const i = 8 + Math.floor(random() * (bytes.length - 8));
      const flipBit = random() < 0.5;
      bytes[i] = flipBit ? bytes[i] ^ (1 << Math.floor(random() * 8)) : Math.floor(random() * 256);
    }
    // Half the cases carry valid CRCs, so that the damage gets past the CRC check.
    if (m % 2 === 0) fixCrcs(bytes);
    const label = `${name} mutation ${m}`;
    const t0 = performance.now();
    let img: PngImage | null = null;
    try {
      img = decodePng(bytes, label);
    } catch (e) {
      if (!(e instanceof MtcnnError)) throw new Error(`${label}: threw ${String(e)}`);
      assert.is(e.code, 'BAD_PNG', e.message);
      assert.ok(e.message.startsWith(`${label}: `), e.message);
      seen.refused++;
      if (!/CRC error/.test(e.message)) seen.refusedPastCrc++;
    }
    slowest = Math.max(slowest, performance.now() - t0);
    if (img !== null) {
      const view = new DataView(bytes.buffer);
      const declared = [view.getUint32(16), view.getUint32(20)]; // IHDR width, height
      assert.equal([img.width, img.height], declared, `${label}: IHDR size`);
      assert.is(img.data.length, img.width * img.height * 3, `${label}: data length`);
      seen.decoded++;
    }
  }
  assert.ok(seen.decoded > 0 && seen.refusedPastCrc > 0, `outcomes ${JSON.stringify(seen)}`);
  assert.ok(slowest < 1000, `slowest case took ${slowest.toFixed(0)} ms`);
});

Png.run();
