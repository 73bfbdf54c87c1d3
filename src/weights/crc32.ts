/**
 * CRC-32 as zlib, PNG and gzip compute it (ISO-HDLC: reflected polynomial
 * 0xEDB88320, initial value and final XOR 0xFFFFFFFF), so a checksum in a
 * weights header can be checked with any standard tool (`zlib.crc32`,
 * Python's `zlib.crc32`, `crc32` on the command line).
 *
 * Byte-at-a-time table lookup: the weights are 2 MB, checked once per load,
 * which this does in a few milliseconds; slicing-by-8 is not worth its
 * extra tables here.
 * @module
 */

/** The reflected CRC-32 generator polynomial x^32 + x^26 + ... + 1 (IEEE 802.3). */
const POLY_REFLECTED = 0xedb88320;

/** (256,) u32: CRC of each byte value, the standard table for byte-wise updates. */
const TABLE = /* @__PURE__ */ (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? POLY_REFLECTED ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/**
 * CRC-32 of `bytes`, as an unsigned 32-bit integer.
 * @param crc the CRC of the bytes before these, to checksum a stream in parts (0 to start).
 * @example crc32(new TextEncoder().encode('123456789')) === 0xcbf43926
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc; // the pre-inversion, undone by the final ~
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
