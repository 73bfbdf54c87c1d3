/**
 * Where the reference material lives: $MTCNN_DATA, else ../shared/mtcnn beside
 * the repository. Tests that need it call these functions, which throw (so the
 * test fails loudly, never skips) when a file is missing.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNpy, type NpyArray } from '../../src/io/npy.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DATA_DIR = resolve(process.env.MTCNN_DATA ?? join(REPO_ROOT, '..', 'shared', 'mtcnn'));

/** Absolute path of a file in the reference material; throws when it is missing. */
export function dataPath(...parts: string[]): string {
  const p = join(DATA_DIR, ...parts);
  if (!existsSync(p)) {
    throw new Error(
      `reference material missing: ${p}\n` +
        `The golden tests need facenet's MTCNN reference folder at ../shared/mtcnn ` +
        `(or set MTCNN_DATA to its path).`,
    );
  }
  return p;
}

export function readJson<T = any>(...parts: string[]): T {
  return JSON.parse(readFileSync(dataPath(...parts), 'utf8')) as T;
}

export function readGoldenNpy(...parts: string[]): NpyArray {
  const p = dataPath(...parts);
  return readNpy(new Uint8Array(readFileSync(p)), p);
}

/** The photos that have a golden trace, sorted; throws if there are none. */
export function traceNames(): string[] {
  const names = readdirSync(dataPath('golden'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(DATA_DIR, 'golden', d.name, 'trace.json')))
    .map((d) => d.name)
    .sort();
  if (names.length === 0) throw new Error(`no golden traces under ${join(DATA_DIR, 'golden')}`);
  return names;
}
