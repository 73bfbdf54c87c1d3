/**
 * The shared photos as the reference sees them: RGB uint8 (h, w, 3), as
 * cv2.imread(IMREAD_COLOR) + BGR->RGB gives them. Decoding goes through the
 * project's Node PNG reader once it exists; until then pngjs directly.
 */
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { dataPath } from './data.ts';

export interface RgbPhoto {
  width: number;
  height: number;
  data: Uint8Array; // (h, w, 3) RGB
}

export function loadPhoto(name: string): RgbPhoto {
  const file = name.endsWith('.png') ? name : `${name}.png`;
  const png = PNG.sync.read(readFileSync(dataPath('images', file)));
  const n = png.width * png.height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    data[3 * i] = png.data[4 * i];
    data[3 * i + 1] = png.data[4 * i + 1];
    data[3 * i + 2] = png.data[4 * i + 2];
  }
  return { width: png.width, height: png.height, data };
}
