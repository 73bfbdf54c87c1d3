/**
 * Round to nearest, ties to even: what OpenCV's `cvRound` and
 * `saturate_cast<int>` do on x86 (cvtsd2si under the default rounding mode),
 * as OPENCV_INTER_AREA.md calls `rne`. JavaScript's Math.round rounds ties
 * up instead, so it cannot stand in for it.
 * @module
 */

/** rne(x) for any finite x: Math.round, then step back to the even neighbour on an exact tie. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties go towards +Infinity
  // r - x is exact (r is the integer next to x), so a tie shows as exactly 0.5.
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
