/**
 * The shared photos as the reference sees them: RGB uint8 (h, w, 3), as
 * cv2.imread(IMREAD_COLOR) + BGR->RGB gives them, read with the project's own
 * Node PNG reader (src/node/png.ts, checked against that in test/png.test.ts).
 */
import { readPng } from '../../src/node/png.ts';
import { dataPath } from './data.ts';

export interface RgbPhoto {
  width: number;
  height: number;
  data: Uint8Array; // (h, w, 3) RGB
}

export function loadPhoto(name: string): RgbPhoto {
  const file = name.endsWith('.png') ? name : `${name}.png`;
  return readPng(dataPath('images', file));
}
