/**
 * PNG reader that gives what the reference's reader gives.
 *
 * facenet reads photos with `cv2.imread(path, cv2.IMREAD_COLOR)` and flips BGR
 * to RGB. OpenCV hands the file to libpng (grfmt_png.cpp) with these
 * transformations: `png_set_strip_16` (16-bit samples keep their high byte),
 * `png_set_strip_alpha` (alpha dropped, never composited),
 * `png_set_palette_to_rgb`, `png_set_expand_gray_1_2_4_to_8` and
 * `png_set_gray_to_rgb`. A tRNS chunk changes nothing either: OpenCV counts it
 * as a 4th channel, but IMREAD_COLOR asks for 3, so the alpha libpng would make
 * of it is stripped like any other (pngjs, by contrast, blacks out the pixels
 * of the transparent colour). No gamma is set, so gAMA, cHRM, sRGB, iCCP and
 * sBIT change nothing. This module decodes the file itself (chunks, zlib via
 * node:zlib, filters, Adam7) and applies the same transformations, giving
 * (h, w, 3) RGB uint8 equal byte for byte to cv2.imread + BGR->RGB.
 * ../shared/pngsuite holds what OpenCV 4.6 gives for all of PngSuite;
 * test/png.test.ts checks every file against it.
 *
 * What libpng refuses, this refuses too, with an MtcnnError('BAD_PNG') naming the
 * file and the reason: a bad signature, a CRC error in a critical chunk, a missing
 * or misplaced IHDR, PLTE or IDAT, an invalid colour type / bit depth pair, an
 * unknown critical chunk, a bad filter type, a zlib stream that is corrupt or
 * ends before the image does, and a file cut short anywhere before IEND (libpng
 * reads on to IEND after the image, and a read error there fails imread too).
 * What libpng only warns about is tolerated the same way: a CRC error in an
 * ancillary chunk (the chunk is skipped), a PLTE in a grayscale file or after
 * IDAT, more image data than the image needs, data after the zlib stream or
 * after IEND. When written, this was checked against cv2.imread (OpenCV 4.6,
 * libpng 1.6) on ~1400 truncations and ~6500 random mutations of PngSuite files:
 * the two agreed on all but 3, the corners named at inflateImageData (this
 * reader refuses, OpenCV decodes).
 * @module
 */
import { constants } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { inflateRawSync, inflateSync } from 'node:zlib';
import { MtcnnError } from '../errors.ts';

export interface PngImage {
  width: number;
  height: number;
  /** (height, width, 3) RGB, row-major. */
  data: Uint8Array;
}

export interface PngOptions {
  /**
   * Largest width × height accepted, checked from IHDR before anything is
   * allocated or inflated. Default DEFAULT_MAX_PIXELS.
   */
  maxPixels?: number;
}

/**
 * 2^28 pixels: a 16384 × 16384 image, 768 MiB of RGB output. (OpenCV's own
 * limit, CV_IO_MAX_IMAGE_PIXELS, is 2^30.)
 */
export const DEFAULT_MAX_PIXELS = 2 ** 28;

/**
 * libpng's default per-axis limit (PNG_USER_WIDTH_MAX / PNG_USER_HEIGHT_MAX):
 * an IHDR with a larger width or height is refused before any image data.
 */
const LIBPNG_MAX_SIDE = 1_000_000;

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]; // \x89PNG\r\n\x1a\n

/** Bit depths allowed per colour type (PNG spec table 11.1), and samples per pixel. */
const COLOR_TYPES: Record<number, { depths: number[]; channels: number; label: string }> = {
  0: { depths: [1, 2, 4, 8, 16], channels: 1, label: 'grayscale' },
  2: { depths: [8, 16], channels: 3, label: 'RGB' },
  3: { depths: [1, 2, 4, 8], channels: 1, label: 'palette' },
  4: { depths: [8, 16], channels: 2, label: 'grayscale + alpha' },
  6: { depths: [8, 16], channels: 4, label: 'RGBA' },
};

/** Adam7: origin and step of each of the 7 passes. */
const ADAM7 = [
  { x0: 0, y0: 0, dx: 8, dy: 8 },
  { x0: 4, y0: 0, dx: 8, dy: 8 },
  { x0: 0, y0: 4, dx: 4, dy: 8 },
  { x0: 2, y0: 0, dx: 4, dy: 4 },
  { x0: 0, y0: 2, dx: 2, dy: 4 },
  { x0: 1, y0: 0, dx: 2, dy: 2 },
  { x0: 0, y0: 1, dx: 1, dy: 2 },
];
const NO_INTERLACE = [{ x0: 0, y0: 0, dx: 1, dy: 1 }];

/** CRC-32 (ISO 3309, as in PNG spec annex D), table-driven. */
const CRC_TABLE = /* @__PURE__ */ (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface Header {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  channels: number;
  interlaced: boolean;
}

/** Everything decoding needs from the chunk stream. */
interface Parsed {
  header: Header;
  palette: Uint8Array | null; // RGB triples, always 256 entries (see parseChunks)
  idat: Uint8Array[];
}

/** Big-endian unsigned 32-bit integer at b[i]. */
const u32 = (b: Uint8Array, i: number) =>
  ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;

/**
 * Walks the chunks from the signature to IEND, checking CRCs and order the way
 * libpng's png_read_info + png_read_end do, and collects IHDR, PLTE and IDAT.
 */
function parseChunks(bytes: Uint8Array, fail: (why: string) => never, maxPixels: number): Parsed {
  if (bytes.length === 0) fail('empty file');
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    fail('not a PNG file (bad signature)');
  }
  let header: Header | null = null;
  let palette: Uint8Array | null = null;
  let plteSeen = false;
  const idat: Uint8Array[] = [];
  let afterIdat = false; // a non-IDAT chunk followed the IDAT run
  let pos = 8;
  for (;;) {
    if (pos + 8 > bytes.length) {
      fail(`truncated: file ends at byte ${bytes.length}, before the IEND chunk`);
    }
    const length = u32(bytes, pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) fail(`invalid chunk type at byte ${pos}`);
    if (length > 0x7fffffff) fail(`chunk ${type} at byte ${pos}: length ${length} out of range`);
    const dataStart = pos + 8;
    const dataEnd = dataStart + length;
    if (dataEnd + 4 > bytes.length) {
      const need = `needs ${length + 12} bytes, file ends at byte ${bytes.length}`;
      fail(`truncated: chunk ${type} at byte ${pos} ${need}`);
    }
    // Bit 5 of the first letter: lower case = ancillary, upper case = critical.
    const critical = (bytes[pos + 4] & 0x20) === 0;
    const crcOk = crc32(bytes, pos + 4, dataEnd) === u32(bytes, dataEnd);
    pos = dataEnd + 4;
    if (!crcOk) {
      // libpng's defaults: PNG_CRC_ERROR_QUIT for critical chunks,
      // PNG_CRC_WARN_DISCARD for ancillary ones.
      if (critical) fail(`CRC error in chunk ${type}`);
      continue;
    }
    const data = bytes.subarray(dataStart, dataEnd);
    if (header === null) {
      if (type !== 'IHDR') fail(`missing IHDR: the first chunk is ${type}`);
      header = parseHeader(data, fail, maxPixels);
      continue;
    }
    switch (type) {
      case 'IHDR':
        fail('duplicate IHDR chunk');
      case 'PLTE':
        // png_handle_PLTE's order: a second PLTE fails, whatever became of the
        // first; one after IDAT is ignored (benign "out of place"), and so is
        // one in a grayscale file. In an RGB file it is only a suggested palette.
        if (plteSeen) fail('duplicate PLTE chunk');
        if (idat.length > 0) break;
        plteSeen = true;
        if (header.colorType !== 3) break;
        if (length === 0 || length > 768 || length % 3 !== 0) fail(`invalid PLTE length ${length}`);
        // libpng keeps a zero-filled 256-entry palette (png_set_PLTE), so an
        // index past the last entry reads as black rather than failing.
        palette = new Uint8Array(768);
        palette.set(data);
        break;
      case 'IDAT':
        if (header.colorType === 3 && palette === null) fail('missing PLTE before IDAT');
        // IDAT chunks after another chunk are past the image ("Too many IDATs
        // found", benign in libpng): the image reads only the first run.
        if (!afterIdat) idat.push(data);
        break;
      case 'IEND':
        if (idat.length === 0) fail('missing IDAT chunk');
        return { header, palette, idat };
      default:
        // Ancillary chunks, tRNS among them (see the module comment), change nothing.
        if (critical) fail(`unknown critical chunk ${type}`);
    }
    if (type !== 'IDAT' && idat.length > 0) afterIdat = true;
  }
}

function parseHeader(data: Uint8Array, fail: (why: string) => never, maxPixels: number): Header {
  if (data.length !== 13) fail(`invalid IHDR length ${data.length}`);
  const width = u32(data, 0);
  const height = u32(data, 4);
  const [bitDepth, colorType, compression, filter, interlace] = data.subarray(8, 13);
  if (width === 0 || height === 0) fail(`invalid image size ${width}x${height}`);
  if (width > LIBPNG_MAX_SIDE || height > LIBPNG_MAX_SIDE) {
    fail(`image size ${width}x${height} exceeds libpng's limit of ${LIBPNG_MAX_SIDE} per side`);
  }
  if (width * height > maxPixels) {
    fail(`image size ${width}x${height} exceeds maxPixels = ${maxPixels}`);
  }
  const ct = COLOR_TYPES[colorType];
  if (ct === undefined) fail(`invalid colour type ${colorType}`);
  if (!ct.depths.includes(bitDepth)) {
    fail(`invalid bit depth ${bitDepth} for colour type ${colorType} (${ct.label})`);
  }
  if (compression !== 0) fail(`unknown compression method ${compression}`);
  if (filter !== 0) fail(`unknown filter method ${filter}`);
  if (interlace > 1) fail(`unknown interlace method ${interlace}`);
  return { width, height, bitDepth, colorType, channels: ct.channels, interlaced: interlace === 1 };
}

/**
 * Undoes the filter (PNG spec §9.2) of row `cur` in place; `prev` is the row
 * above, unfiltered (zeros on a pass's first row). False for an unknown type.
 */
function unfilter(filterType: number, cur: Uint8Array, prev: Uint8Array, bpp: number): boolean {
  const n = cur.length;
  switch (filterType) {
    case 0: // None
      return true;
    case 1: // Sub
      for (let i = bpp; i < n; i++) cur[i] = cur[i] + cur[i - bpp];
      return true;
    case 2: // Up
      for (let i = 0; i < n; i++) cur[i] = cur[i] + prev[i];
      return true;
    case 3: // Average
      for (let i = 0; i < bpp; i++) cur[i] = cur[i] + (prev[i] >> 1);
      for (let i = bpp; i < n; i++) cur[i] = cur[i] + ((cur[i - bpp] + prev[i]) >> 1);
      return true;
    case 4: // Paeth
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? cur[i - bpp] : 0;
        const b = prev[i];
        const c = i >= bpp ? prev[i - bpp] : 0;
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        cur[i] = cur[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
      return true;
    default:
      return false;
  }
}

interface Pass {
  x0: number; // first column
  y0: number; // first row
  dx: number; // column step
  dy: number; // row step
  w: number; // pixels per row in this pass (0: the pass is empty)
  h: number; // rows in this pass
}

/**
 * Writes one unfiltered row of a pass to RGB output pixels x0, x0 + dx, ...
 * of image row y, applying OpenCV's libpng transformations.
 */
function emitRow(
  h: Header,
  palette: Uint8Array | null,
  row: Uint8Array,
  out: Uint8Array,
  y: number,
  p: Pass,
): void {
  const { bitDepth, colorType, channels } = h;
  const step = p.dx * 3;
  let o = (y * h.width + p.x0) * 3;
  if (bitDepth < 8) {
    // Packed samples, leftmost pixel in the high bits. Grayscale is widened by
    // png_set_expand_gray_1_2_4_to_8, i.e. multiplied by 255 / (2^depth - 1)
    // (exact: 255, 85 or 17); palette indices pick a palette entry.
    const mask = (1 << bitDepth) - 1;
    const scale = 255 / mask;
    for (let x = 0; x < p.w; x++, o += step) {
      const bit = x * bitDepth;
      const v = (row[bit >> 3] >> (8 - bitDepth - (bit & 7))) & mask;
      if (colorType === 3) {
        out[o] = palette![3 * v];
        out[o + 1] = palette![3 * v + 1];
        out[o + 2] = palette![3 * v + 2];
      } else {
        out[o] = out[o + 1] = out[o + 2] = v * scale;
      }
    }
    return;
  }
  // 8 or 16 bits. png_set_strip_16 keeps the high byte of a 16-bit sample,
  // which PNG stores first (big-endian), so the low byte is simply skipped:
  // 0x12ff becomes 0x12, not the rounded 0x13 of png_set_scale_16.
  const bps = bitDepth >> 3; // bytes per sample
  const pixelBytes = channels * bps;
  for (let x = 0, i = 0; x < p.w; x++, i += pixelBytes, o += step) {
    if (colorType === 3) {
      const v = row[i];
      out[o] = palette![3 * v];
      out[o + 1] = palette![3 * v + 1];
      out[o + 2] = palette![3 * v + 2];
    } else if (channels >= 3) {
      // RGB or RGBA: alpha, the 4th sample, is dropped (png_set_strip_alpha).
      out[o] = row[i];
      out[o + 1] = row[i + bps];
      out[o + 2] = row[i + 2 * bps];
    } else {
      // Gray or gray + alpha: png_set_gray_to_rgb copies gray to all three.
      out[o] = out[o + 1] = out[o + 2] = row[i];
    }
  }
}

/**
 * Inflates the IDAT run the way libpng judges it. libpng inflates row by row,
 * each call asking for exactly the bytes of the next row, so the call for the
 * last row runs on through the stream's end and its adler32 checksum only when
 * the stream holds no more data than the image needs; any error there fails
 * the read. When the stream holds more, that call stops at the first surplus
 * byte and png_read_finish_IDAT only warns about what follows: a corrupt
 * checksum is then ignored, and so are the surplus bytes ("Too much image
 * data"). Surplus is accepted here up to 1 MiB, a bound that keeps a zlib bomb
 * from taking memory. A stream that is cut short, or corrupt within the
 * image's bytes, fails as in libpng. Two corners are not followed, both
 * refused here where OpenCV decodes: damage in the surplus other than the
 * checksum (node:zlib throws away the bytes it did produce), and a bad
 * checksum that starts a later IDAT chunk than the image's last byte (libpng's
 * last-row call ends with that chunk's data).
 */
function inflateImageData(
  idat: Uint8Array[],
  needed: number,
  fail: (why: string) => never,
): Uint8Array {
  const compressed = idat.length === 1 ? idat[0] : concat(idat);
  const maxOutputLength = Math.min(needed + (1 << 20), constants.MAX_LENGTH);
  let raw: Uint8Array | null = null;
  try {
    raw = inflateSync(compressed, { maxOutputLength });
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.message === 'incorrect data check') {
      // Again without the checksum: a raw deflate stream after the 2-byte zlib header.
      try {
        raw = inflateRawSync(compressed.subarray(2), { maxOutputLength });
      } catch {
        raw = null;
      }
      if (raw !== null && raw.length > needed) return raw;
    }
    if (err.code === 'ERR_BUFFER_TOO_LARGE') {
      fail(`too much image data: over ${maxOutputLength} bytes, the image needs ${needed}`);
    }
    fail(`corrupt image data (zlib: ${err.message ?? String(e)})`);
  }
  if (raw.length < needed) fail(`not enough image data: ${raw.length} of ${needed} bytes`);
  return raw;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Decodes a PNG file's bytes to RGB uint8, exactly as cv2.imread(IMREAD_COLOR)
 * followed by BGR->RGB.
 * @param bytes the whole file
 * @param name how error messages name the file
 * @throws MtcnnError('BAD_PNG') when OpenCV would refuse the file, when it is
 *   cut short, or when it is larger than `options.maxPixels`
 * @example
 * const { width, height, data } = decodePng(readFileSync('face.png'), 'face.png');
 */
export function decodePng(bytes: Uint8Array, name = 'PNG', options: PngOptions = {}): PngImage {
  const fail = (why: string): never => {
    throw new MtcnnError('BAD_PNG', `${name}: ${why}`);
  };
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels > 0 && maxPixels < Infinity)) {
    throw new MtcnnError('BAD_OPTIONS', `maxPixels must be a positive number, got ${maxPixels}`);
  }
  const { header, palette, idat } = parseChunks(bytes, fail, maxPixels);
  const { width, height, bitDepth, channels } = header;
  const passes: Pass[] = (header.interlaced ? ADAM7 : NO_INTERLACE).map((p) => ({
    ...p,
    w: width > p.x0 ? Math.ceil((width - p.x0) / p.dx) : 0,
    h: height > p.y0 ? Math.ceil((height - p.y0) / p.dy) : 0,
  }));
  const rowBytes = (w: number) => Math.ceil((w * channels * bitDepth) / 8);
  // Each row is a filter-type byte then the row's bytes; an empty pass has no rows.
  const needed = passes.reduce((s, p) => s + (p.w > 0 ? p.h * (1 + rowBytes(p.w)) : 0), 0);
  const raw = inflateImageData(idat, needed, fail);

  const out = new Uint8Array(width * height * 3);
  const bpp = Math.max(1, (channels * bitDepth) >> 3); // filter distance: bytes per pixel, >= 1
  let pos = 0;
  passes.forEach((p, pass) => {
    if (p.w === 0) return;
    const n = rowBytes(p.w);
    let prev: Uint8Array = new Uint8Array(n);
    for (let r = 0; r < p.h; r++) {
      const filterType = raw[pos];
      const cur = raw.subarray(pos + 1, pos + 1 + n); // unfiltered in place
      if (!unfilter(filterType, cur, prev, bpp)) {
        const where = header.interlaced ? `row ${r} of pass ${pass + 1}` : `row ${r}`;
        fail(`bad filter type ${filterType} in ${where}`);
      }
      emitRow(header, palette, cur, out, p.y0 + r * p.dy, p);
      prev = cur;
      pos += 1 + n;
    }
  });
  return { width, height, data: out };
}

/**
 * Reads and decodes a PNG file (see decodePng); error messages name `path`.
 * @throws MtcnnError('NOT_FOUND') when the file does not exist, MtcnnError('BAD_PNG') otherwise
 */
export function readPng(path: string, options: PngOptions = {}): PngImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new MtcnnError('NOT_FOUND', `${path}: no such file`);
    throw new MtcnnError('BAD_PNG', `${path}: cannot read (${code ?? String(e)})`);
  }
  return decodePng(bytes, path, options);
}
