/**
 * The one error type the library throws on bad input.
 *
 * Every check at a boundary (image, options, weights file, PNG, npy) throws an
 * MtcnnError whose `code` says which class of problem it is and whose message
 * names the offending argument, tensor or file, so callers can catch it with
 * `instanceof MtcnnError` and branch on `code` without parsing text.
 * @module
 */

/** Classes of bad input; see each throw site for the exact message. */
export type MtcnnErrorCode =
  | 'BAD_IMAGE' // width/height/data/channels inconsistent or out of range
  | 'BAD_OPTIONS' // minsize, factor, thresholds, limits
  | 'BAD_WEIGHTS' // weights file: magic, version, tensor table, shapes, checksums
  | 'BAD_NPY' // .npy container or pickle the readers cannot parse
  | 'BAD_PNG' // PNG file that cannot be decoded
  | 'DEGENERATE_CROP' // align/crop.ts: a face crop with no pixel (detection itself drops such candidates, pipeline/crop.ts)
  | 'NOT_FOUND' // a file the caller pointed at (or the default location) is missing
  | 'WORKER'; // ParallelDetector / WebParallelDetector: a worker could not start or died, or the detector was closed

export class MtcnnError extends Error {
  readonly code: MtcnnErrorCode;
  constructor(code: MtcnnErrorCode, message: string) {
    super(message);
    this.name = 'MtcnnError';
    this.code = code;
  }
}

/**
 * A value as an error message shows it: strings quoted and other types
 * named, so `"20"` is not mistaken for 20, and a Symbol, a BigInt or an
 * object without a prototype cannot make the message itself throw (as a
 * template literal or JSON.stringify would).
 */
export function show(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    case 'bigint':
      return `${value}n (a BigInt)`;
    case 'symbol':
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'function':
      return 'a function';
  }
  if (value === null) return 'null';
  const tag = Object.prototype.toString.call(value).slice(8, -1); // "[object Float32Array]" -> "Float32Array"
  if (Array.isArray(value)) {
    const head = value.slice(0, 5).map((v) => (Array.isArray(v) ? 'an Array' : show(v)));
    return `[${head.join(', ')}${value.length > 5 ? `, ... (${value.length} items)` : ''}]`;
  }
  return `an ${tag === 'Object' ? 'object' : tag}`.replace(/^an ([^aeiouAEIOU])/, 'a $1');
}
