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
  | 'DEGENERATE_CROP' // the reference's `return np.empty()` case, see pipeline/crop.ts
  | 'NOT_FOUND'; // a file the caller pointed at (or the default location) is missing

export class MtcnnError extends Error {
  readonly code: MtcnnErrorCode;
  constructor(code: MtcnnErrorCode, message: string) {
    super(message);
    this.name = 'MtcnnError';
    this.code = code;
  }
}
