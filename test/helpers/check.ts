/**
 * Array comparison in the style of llm.c's check_tensor: on failure the message
 * shows the label, the largest difference and where it is, and the first
 * differing (actual, expected) pairs, so a drift is located at once.
 */
import { createHash } from 'node:crypto';

export interface Diff {
  maxDiff: number;
  argMax: number;
  mismatches: number;
}

/** Largest absolute difference; NaN anywhere, or a length mismatch, counts as a mismatch. */
export function diff(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): Diff {
  let maxDiff = 0,
    argMax = -1,
    mismatches = 0;
  const n = Math.max(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    const a = actual[i],
      e = expected[i];
    const d = a === e ? 0 : Math.abs(a - e);
    if (!(d <= tol)) mismatches++;
    if (!(d <= maxDiff)) {
      maxDiff = Number.isNaN(d) ? Infinity : d;
      argMax = i;
    }
  }
  return { maxDiff, argMax, mismatches };
}

/** Throws a located, readable error when |actual - expected| > tol anywhere. Returns the largest difference. */
export function checkClose(
  label: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
): number {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length}, expected ${expected.length}`);
  }
  const d = diff(actual, expected, tol);
  if (d.mismatches > 0) {
    const lines: string[] = [];
    for (let i = 0; i < actual.length && lines.length < 5; i++) {
      const a = actual[i],
        e = expected[i];
      if (!(Math.abs(a - e) <= tol) && a !== e) lines.push(`  [${i}] actual ${a}  expected ${e}`);
    }
    throw new Error(
      `${label}: ${d.mismatches} of ${actual.length} values differ by more than ${tol}; ` +
        `max diff ${d.maxDiff} at index ${d.argMax}\n${lines.join('\n')}`,
    );
  }
  return d.maxDiff;
}

/** Exact equality of two integer or byte sequences, located on failure. */
export function checkEqual(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  checkClose(label, actual, expected, 0);
}

export function sha256(data: ArrayBufferView): string {
  return createHash('sha256')
    .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    .digest('hex');
}
