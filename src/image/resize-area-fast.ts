/**
 * cv2.resize INTER_AREA when both ratios are whole numbers ("area fast",
 * OpenCV's resizeAreaFast_): every output pixel is the plain mean of its
 * kx x ky source block. Follows PATH F, §2 of
 * ../shared/mtcnn/OPENCV_INTER_AREA.md; dispatch is in imresample.ts.
 *
 * Buffers are (h, w, cn) interleaved, C order. Blocks never overlap or run
 * past the border: sw = dw * kx and sh = dh * ky exactly.
 * @module
 */

/**
 * Offsets of a block's pixels from its top-left value, in OpenCV's order:
 * block rows top to bottom, left to right inside a row. (ky * kx) int32.
 * The float64 sum depends on this order (§2), the integer sum does not.
 */
function blockOffsets(sw: number, cn: number, kx: number, ky: number): Int32Array {
  const ofs = new Int32Array(kx * ky);
  let k = 0;
  for (let by = 0; by < ky; by++) {
    for (let bx = 0; bx < kx; bx++) ofs[k++] = (by * sw + bx) * cn;
  }
  return ofs;
}

/**
 * uint8 source. `dst` is a Uint8ClampedArray view of the (dh, dw, cn) output:
 * its stores round half to even and saturate to 0..255 (ECMAScript's
 * ToUint8Clamp), which is saturate_cast<uchar>(float), sat8(rne(x)).
 */
export function areaFastU8(
  dst: Uint8ClampedArray,
  src: Uint8Array,
  sw: number,
  cn: number,
  dw: number,
  dh: number,
  kx: number,
  ky: number,
): void {
  const area = kx * ky;
  const ofs = blockOffsets(sw, cn, kx, ky);
  // OpenCV's 2x2 shortcut (cn 1, 3 and 4 only) divides the integer sum with
  // `(sum + 2) >> 2`, which rounds ties UP; every other ratio takes the float
  // product below, which rounds ties to even (§2, §9).
  const halve2x2 = kx === 2 && ky === 2 && (cn === 1 || cn === 3 || cn === 4);
  const scaleF = Math.fround(1 / area); // C's `1.f / area`, a float: 1/9 is 0.1111111119389534
  const srcRow = sw * cn; // stride of one source row
  const dstRow = dw * cn;
  for (let dy = 0; dy < dh; dy++) {
    const srcBlockRow = dy * ky * srcRow;
    const dstRowStart = dy * dstRow;
    for (let dx = 0; dx < dw; dx++) {
      const srcBlock = srcBlockRow + dx * kx * cn;
      const d = dstRowStart + dx * cn;
      for (let c = 0; c < cn; c++) {
        const s = srcBlock + c;
        let sum = 0; // C int: at most 255 * area
        for (let k = 0; k < area; k++) sum += src[s + ofs[k]];
        // C converts the int sum to float before multiplying; that is exact
        // while sum < 2^24, i.e. for any block under 65793 pixels.
        dst[d + c] = halve2x2 ? (sum + 2) >> 2 : Math.fround(sum * scaleF);
      }
    }
  }
}

/**
 * float64 source, (dh, dw, cn) float64 output. Otherwise identical to
 * areaFastU8, except the sum: OpenCV consumes the block in groups of four,
 * `sum = sum + (((a + b) + c) + d)`, then the leftovers one at a time, and
 * multiplies by the float reciprocal widened to double, not divides by the
 * area (so 2040 / 9 comes out as 226.66666835546494).
 */
export function areaFastF64(
  dst: Float64Array,
  src: Float64Array,
  sw: number,
  cn: number,
  dw: number,
  dh: number,
  kx: number,
  ky: number,
): void {
  const area = kx * ky;
  const ofs = blockOffsets(sw, cn, kx, ky);
  const scaleF = Math.fround(1 / area);
  const srcRow = sw * cn;
  const dstRow = dw * cn;
  for (let dy = 0; dy < dh; dy++) {
    const srcBlockRow = dy * ky * srcRow;
    const dstRowStart = dy * dstRow;
    for (let dx = 0; dx < dw; dx++) {
      const srcBlock = srcBlockRow + dx * kx * cn;
      const d = dstRowStart + dx * cn;
      for (let c = 0; c < cn; c++) {
        const s = srcBlock + c;
        let sum = 0;
        let k = 0;
        for (; k + 4 <= area; k += 4) {
          sum += src[s + ofs[k]] + src[s + ofs[k + 1]] + src[s + ofs[k + 2]] + src[s + ofs[k + 3]];
        }
        for (; k < area; k++) sum += src[s + ofs[k]];
        dst[d + c] = sum * scaleF;
      }
    }
  }
}
