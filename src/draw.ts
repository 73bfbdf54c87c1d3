/**
 * Small drawing helpers for pictures of a detection: lines, rectangles, dots,
 * digits, a heat-map colour ramp and alpha blending, on RGB byte images
 * (h, w, 3), the same RgbImage the detector reads.
 *
 * Everything clips at the image borders: detect_face() boxes routinely reach
 * past the photo (the pad() step exists for that), and drawing one must never
 * throw or wrap around to the next row. Coordinates are pixel centres: (x, y)
 * is the pixel data[(y * width + x) * 3]; fractional coordinates round to the
 * nearest pixel.
 *
 * Used by explain mode (explain.ts) and `mtcnn detect --draw` (annotate).
 * @module
 */
import { LANDMARK_NAMES, type Face, type RgbImage } from './types.ts';

export type Color = readonly [r: number, g: number, b: number];

/** A new image filled with one colour. */
export function blank(width: number, height: number, color: Color = [0, 0, 0]): RgbImage {
  const data = new Uint8Array(width * height * 3); // (h, w, 3) RGB
  for (let i = 0; i < data.length; i += 3) {
    data[i] = color[0];
    data[i + 1] = color[1];
    data[i + 2] = color[2];
  }
  return { width, height, data };
}

/** A copy whose pixels can be drawn on without touching the original. */
export function copyImage(img: RgbImage): RgbImage {
  return { width: img.width, height: img.height, data: img.data.slice() };
}

/**
 * Fills the pixels x0..x1, y0..y1 (inclusive, in any order) clipped to the
 * image. The building block of rectangles, thick lines and text.
 */
export function fillRect(img: RgbImage, x0: number, y0: number, x1: number, y1: number, color: Color): void {
  // NaN corners (a failed regression, say) draw nothing rather than everything.
  if (!(Number.isFinite(x0) && Number.isFinite(y0) && Number.isFinite(x1) && Number.isFinite(y1))) return;
  const left = Math.max(0, Math.round(Math.min(x0, x1)));
  const right = Math.min(img.width - 1, Math.round(Math.max(x0, x1)));
  const top = Math.max(0, Math.round(Math.min(y0, y1)));
  const bottom = Math.min(img.height - 1, Math.round(Math.max(y0, y1)));
  const d = img.data,
    rowStride = img.width * 3;
  for (let y = top; y <= bottom; y++) {
    for (let o = y * rowStride + left * 3, end = y * rowStride + right * 3; o <= end; o += 3) {
      d[o] = color[0];
      d[o + 1] = color[1];
      d[o + 2] = color[2];
    }
  }
}

/**
 * A 1-pixel line from (x0, y0) to (x1, y1), Bresenham's algorithm. The
 * segment is first clipped to the image (Liang-Barsky), so a line with an end
 * far outside costs only the pixels it actually covers.
 */
export function drawLine(img: RgbImage, x0: number, y0: number, x1: number, y1: number, color: Color): void {
  // Liang-Barsky: keep the parameter range [t0, t1] of x0 + t*dx that lies in
  // [-0.5, width - 0.5] x [-0.5, height - 0.5], the area the pixels cover.
  const dx = x1 - x0,
    dy = y1 - y0;
  let t0 = 0,
    t1 = 1;
  const edges: [number, number][] = [
    [-dx, x0 + 0.5],
    [dx, img.width - 0.5 - x0],
    [-dy, y0 + 0.5],
    [dy, img.height - 0.5 - y0],
  ];
  for (const [p, q] of edges) {
    if (!Number.isFinite(p) || !Number.isFinite(q)) return;
    if (p === 0) {
      if (q < 0) return; // parallel to this edge and outside it
    } else {
      const t = q / p;
      if (p < 0) t0 = Math.max(t0, t);
      else t1 = Math.min(t1, t);
    }
  }
  if (t0 > t1) return;
  let x = Math.round(x0 + t0 * dx),
    y = Math.round(y0 + t0 * dy);
  const xe = Math.round(x0 + t1 * dx),
    ye = Math.round(y0 + t1 * dy);
  const sx = x < xe ? 1 : -1,
    sy = y < ye ? 1 : -1;
  const ax = Math.abs(xe - x),
    ay = -Math.abs(ye - y);
  let err = ax + ay;
  const d = img.data;
  for (;;) {
    // rounding may put an end half a pixel outside: check each pixel anyway
    if (x >= 0 && x < img.width && y >= 0 && y < img.height) {
      const o = (y * img.width + x) * 3;
      d[o] = color[0];
      d[o + 1] = color[1];
      d[o + 2] = color[2];
    }
    if (x === xe && y === ye) break;
    const e2 = 2 * err;
    if (e2 >= ay) {
      err += ay;
      x += sx;
    }
    if (e2 <= ax) {
      err += ax;
      y += sy;
    }
  }
}

/**
 * The outline of the box x1, y1, x2, y2 (corners as detect_face() gives
 * them), `thickness` pixels wide, drawn inward from the corners so the box's
 * outer edge stays where the detector put it. The interior is untouched.
 */
export function drawRect(
  img: RgbImage,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  color: Color,
  thickness = 1,
): void {
  const left = Math.round(Math.min(x1, x2)),
    right = Math.round(Math.max(x1, x2));
  const top = Math.round(Math.min(y1, y2)),
    bottom = Math.round(Math.max(y1, y2));
  const t = Math.max(1, Math.round(thickness)) - 1;
  fillRect(img, left, top, right, Math.min(top + t, bottom), color); // top edge
  fillRect(img, left, Math.max(bottom - t, top), right, bottom, color); // bottom edge
  fillRect(img, left, top, Math.min(left + t, right), bottom, color); // left edge
  fillRect(img, Math.max(right - t, left), top, right, bottom, color); // right edge
}

/** A filled disc: every pixel whose centre is within `radius` of (cx, cy). */
export function drawDot(img: RgbImage, cx: number, cy: number, radius: number, color: Color): void {
  if (!(Number.isFinite(cx) && Number.isFinite(cy) && radius >= 0)) return;
  const top = Math.max(0, Math.ceil(cy - radius)),
    bottom = Math.min(img.height - 1, Math.floor(cy + radius));
  const r2 = radius * radius,
    d = img.data;
  for (let y = top; y <= bottom; y++) {
    // the disc's row y spans cx +- half, from Pythagoras
    const half = Math.sqrt(r2 - (y - cy) * (y - cy));
    const left = Math.max(0, Math.ceil(cx - half)),
      right = Math.min(img.width - 1, Math.floor(cx + half));
    for (let x = left; x <= right; x++) {
      const o = (y * img.width + x) * 3;
      d[o] = color[0];
      d[o + 1] = color[1];
      d[o + 2] = color[2];
    }
  }
}

/**
 * A 3x5 pixel font for the characters scores need. Each glyph is five rows of
 * three pixels, read left to right, top to bottom; '#' is ink.
 */
const GLYPHS: Record<string, string> = {
  '0': '###' + '#.#' + '#.#' + '#.#' + '###',
  '1': '.#.' + '##.' + '.#.' + '.#.' + '###',
  '2': '###' + '..#' + '###' + '#..' + '###',
  '3': '###' + '..#' + '###' + '..#' + '###',
  '4': '#.#' + '#.#' + '###' + '..#' + '..#',
  '5': '###' + '#..' + '###' + '..#' + '###',
  '6': '###' + '#..' + '###' + '#.#' + '###',
  '7': '###' + '..#' + '..#' + '..#' + '..#',
  '8': '###' + '#.#' + '###' + '#.#' + '###',
  '9': '###' + '#.#' + '###' + '..#' + '###',
  '.': '...' + '...' + '...' + '...' + '.#.',
  '-': '...' + '...' + '###' + '...' + '...',
};
const GLYPH_W = 3,
  GLYPH_H = 5;

/** Width and height in pixels of `text` drawn by drawText at `scale`. */
export function textSize(text: string, scale = 1): [width: number, height: number] {
  return [Math.max(0, text.length * (GLYPH_W + 1) - 1) * scale, GLYPH_H * scale];
}

/**
 * Digits, '.' and '-' with their top-left corner at (x, y), each font pixel a
 * scale x scale square. Other characters leave a blank.
 */
export function drawText(img: RgbImage, text: string, x: number, y: number, color: Color, scale = 1): void {
  for (let i = 0; i < text.length; i++) {
    const glyph = GLYPHS[text[i]];
    if (glyph === undefined) continue;
    const gx = x + i * (GLYPH_W + 1) * scale;
    for (let k = 0; k < glyph.length; k++) {
      if (glyph[k] !== '#') continue;
      const px = gx + (k % GLYPH_W) * scale,
        py = y + Math.floor(k / GLYPH_W) * scale;
      fillRect(img, px, py, px + scale - 1, py + scale - 1, color);
    }
  }
}

/**
 * The heat-map ramp, from 0 to 1: black, purple, red, orange, pale yellow
 * (stops sampled from matplotlib's "inferno"). Its brightness rises
 * steadily, so it reads correctly in gray too, and 0 is near black.
 */
const RAMP: readonly Color[] = [
  [0, 0, 4],
  [87, 16, 110],
  [188, 55, 84],
  [249, 142, 9],
  [252, 255, 164],
];

/** The ramp's colour for v in [0, 1] (clamped; NaN reads as 0). */
export function rampColor(v: number): Color {
  const t = v > 0 ? Math.min(v, 1) * (RAMP.length - 1) : 0;
  const i = Math.min(Math.floor(t), RAMP.length - 2),
    f = t - i;
  const a = RAMP[i],
    b = RAMP[i + 1];
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
  ];
}

/**
 * A (h, w) map of values in [0, 1] as a colour picture of outH x outW,
 * upscaled nearest-neighbour: each map cell becomes a solid block, so the
 * reader sees the cells P-Net actually scored, not a smoothed guess.
 */
export function heatMap(map: ArrayLike<number>, h: number, w: number, outH: number, outW: number): RgbImage {
  const out = blank(outW, outH);
  const d = out.data;
  for (let y = 0; y < outH; y++) {
    const r = Math.min(h - 1, Math.floor((y * h) / outH));
    for (let x = 0; x < outW; x++) {
      const c = rampColor(map[r * w + Math.min(w - 1, Math.floor((x * w) / outW))]);
      const o = (y * outW + x) * 3;
      d[o] = c[0];
      d[o + 1] = c[1];
      d[o + 2] = c[2];
    }
  }
  return out;
}

/**
 * Paints `src` onto `dst` with its top-left corner at (x, y):
 * dst = alpha * src + (1 - alpha) * dst, clipped. alpha = 1 pastes.
 */
export function blend(dst: RgbImage, src: RgbImage, x: number, y: number, alpha = 1): void {
  const x0 = Math.max(0, x),
    y0 = Math.max(0, y);
  const x1 = Math.min(dst.width, x + src.width),
    y1 = Math.min(dst.height, y + src.height);
  const a = Math.min(1, Math.max(0, alpha));
  for (let yy = y0; yy < y1; yy++) {
    for (let xx = x0; xx < x1; xx++) {
      const o = (yy * dst.width + xx) * 3,
        s = ((yy - y) * src.width + (xx - x)) * 3;
      for (let c = 0; c < 3; c++) dst.data[o + c] = Math.round(a * src.data[s + c] + (1 - a) * dst.data[o + c]);
    }
  }
}

/** Colours of annotate: the box, the score label, and one per landmark in LANDMARK_NAMES order. */
export const FACE_COLOR: Color = [0, 230, 64];
export const LANDMARK_COLORS: readonly Color[] = [
  [0, 200, 255], // left eye: light blue
  [0, 90, 255], // right eye: blue
  [255, 220, 0], // nose: yellow
  [255, 0, 160], // left mouth corner: pink
  [190, 0, 255], // right mouth corner: purple
];

/**
 * A copy of `image` with every face's box, its five landmarks and its score
 * (two decimals, on a dark plate above the box). Line widths and dot sizes
 * grow with the picture so they stay visible on large photos.
 */
export function annotate(image: RgbImage, faces: readonly Face[]): RgbImage {
  const out = copyImage(image);
  const side = Math.min(image.width, image.height);
  const thickness = Math.max(2, Math.round(side / 200));
  const textScale = Math.max(2, Math.round(side / 150));
  for (const f of faces) {
    const [x1, y1, x2, y2] = f.box;
    drawRect(out, x1, y1, x2, y2, FACE_COLOR, thickness);
    const radius = Math.max(2, Math.min(x2 - x1, y2 - y1) / 30);
    LANDMARK_NAMES.forEach((name, k) => {
      const [x, y] = f.landmarks[name];
      drawDot(out, x, y, radius + 1, [0, 0, 0]); // dark rim: visible on light skin
      drawDot(out, x, y, radius, LANDMARK_COLORS[k]);
    });
    const label = f.score.toFixed(2);
    const [tw, th] = textSize(label, textScale);
    const pad = textScale;
    // above the box, or inside its top edge when the box touches the top
    const ly = y1 - th - 2 * pad >= 0 ? Math.round(y1) - th - 2 * pad : Math.round(y1) + thickness;
    const lx = Math.round(x1);
    fillRect(out, lx, ly, lx + tw + 2 * pad - 1, ly + th + 2 * pad - 1, [0, 0, 0]);
    drawText(out, label, lx + pad, ly + pad, FACE_COLOR, textScale);
  }
  return out;
}
