/**
 * Node-only: loads the exported weights file from disk. The browser/worker
 * equivalent is `parseWeights(await (await fetch(url)).arrayBuffer())`.
 * @module
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MtcnnError } from '../errors.ts';
import { parseWeights, type MtcnnWeights } from '../weights/format.ts';

/** Absolute path of weights/mtcnn.bin in this package, written by `npm install` / `npm run weights`. */
export const DEFAULT_WEIGHTS_PATH = fileURLToPath(new URL('../../weights/mtcnn.bin', import.meta.url));

/**
 * Reads and fully checks a weights file (see src/weights/format.ts).
 * Node's file buffers of this size are 8-aligned, so the tensors are views into it, not copies.
 * @throws MtcnnError('NOT_FOUND') when the file does not exist; MtcnnError('BAD_WEIGHTS')
 *   naming the file and the problem when it is not a valid weights file.
 */
export function loadWeightsFile(path: string = DEFAULT_WEIGHTS_PATH): MtcnnWeights {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new MtcnnError(
      'NOT_FOUND',
      `weights file not found: ${path}. Run \`npm run weights\` to export it from facenet's ` +
        `det1.npy, det2.npy, det3.npy (see weights/README.md).`,
    );
  }
  try {
    return parseWeights(bytes);
  } catch (e) {
    if (e instanceof MtcnnError) throw new MtcnnError(e.code, `${path}: ${e.message}`);
    throw e;
  }
}
