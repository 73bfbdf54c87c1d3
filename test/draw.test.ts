/**
 * The drawing helpers, pixel by pixel on tiny images: which pixels a shape
 * sets is worked out here from its definition (a rectangle's outline, a disc's
 * radius), never read back from the implementation. Clipping is checked with
 * shapes that cross or miss the border, since detector boxes often do.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  FACE_COLOR,
  LANDMARK_COLORS,
  annotate,
  blank,
  blend,
  drawDot,
  drawLine,
  drawRect,
  drawText,
  heatMap,
  rampColor,
  textSize,
  type Color,
} from '../src/draw.ts';
import { LANDMARK_NAMES, type Face, type RgbImage } from '../src/types.ts';

const Draw = suite('draw');
const RED: Color = [255, 0, 0];
const GRAY: Color = [10, 20, 30];

const px = (img: RgbImage, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

/** Every pixel's state, as a picture in text: '#' for `color`, '.' for the background, '?' for anything else. */
function ascii(img: RgbImage, color: Color = RED): string {
  const rows: string[] = [];
  for (let y = 0; y < img.height; y++) {
    let row = '';
    for (let x = 0; x < img.width; x++) {
      const p = px(img, x, y);
      row += p.every((v, c) => v === color[c]) ? '#' : p.every((v, c) => v === GRAY[c]) ? '.' : '?';
    }
    rows.push(row);
  }
  return rows.join('\n');
}

/** The expected picture from a predicate on (x, y). */
function expected(w: number, h: number, set: (x: number, y: number) => boolean): string {
  const rows: string[] = [];
  for (let y = 0; y < h; y++) {
    let row = '';
    for (let x = 0; x < w; x++) row += set(x, y) ? '#' : '.';
    rows.push(row);
  }
  return rows.join('\n');
}

Draw('drawRect: outline set, interior and outside untouched', () => {
  const img = blank(10, 8, GRAY);
  drawRect(img, 2, 1, 7, 5, RED);
  const onBorder = (x: number, y: number) => x >= 2 && x <= 7 && y >= 1 && y <= 5 && (x === 2 || x === 7 || y === 1 || y === 5);
  assert.is(ascii(img), expected(10, 8, onBorder));
});

Draw('drawRect: thickness grows inward; corners in any order; fractions round', () => {
  const img = blank(10, 10, GRAY);
  drawRect(img, 8.4, 7.6, 1.2, 0.9, RED, 2); // = (1, 1) .. (8, 8)
  const inBox = (x: number, y: number, a: number, b: number) => x >= a && x <= b && y >= a && y <= b;
  assert.is(ascii(img), expected(10, 10, (x, y) => inBox(x, y, 1, 8) && !inBox(x, y, 3, 6)));
});

Draw('drawRect: a box past the border is clipped, never wrapped to another row', () => {
  const img = blank(10, 8, GRAY);
  drawRect(img, -5, -5, 3, 20, RED); // only the right edge, x = 3, is inside
  assert.is(ascii(img), expected(10, 8, (x) => x === 3));
  const untouched = blank(10, 8, GRAY);
  drawRect(untouched, 12, 2, 30, 6, RED); // wholly to the right
  drawRect(untouched, -1e12, -1e12, -1e11, 1e12, RED); // far away on the left
  drawRect(untouched, NaN, 1, 5, 5, RED);
  assert.is(ascii(untouched), expected(10, 8, () => false));
  const huge = blank(6, 4, GRAY);
  drawRect(huge, -1e12, -1e12, 1e12, 1e12, RED, 3); // covers everything: its outline lies outside
  assert.is(ascii(huge), expected(6, 4, () => false));
});

Draw('drawLine: diagonal, steep and clipped lines', () => {
  const diag = blank(6, 6, GRAY);
  drawLine(diag, 0, 0, 4, 4, RED);
  assert.is(ascii(diag), expected(6, 6, (x, y) => x === y && x <= 4));

  const steep = blank(5, 8, GRAY);
  drawLine(steep, 1, 0, 2, 7, RED);
  const rows = ascii(steep).split('\n');
  assert.ok(rows.every((r) => r.split('#').length - 1 === 1), 'a steep line sets one pixel per row');
  assert.is(rows[0].indexOf('#'), 1);
  assert.is(rows[7].indexOf('#'), 2);

  const across = blank(6, 5, GRAY);
  drawLine(across, -100, 3, 100, 3, RED); // both ends far outside
  drawLine(across, 2, -50, 2, -1, RED); // wholly above
  drawLine(across, -3, -3, -1, 10, RED); // wholly on the left
  drawLine(across, 0, 0, Infinity, 2, RED);
  assert.is(ascii(across), expected(6, 5, (_, y) => y === 3));

  const reversed = blank(6, 6, GRAY);
  drawLine(reversed, 4, 4, 0, 0, RED);
  assert.is(ascii(reversed), ascii(diag), 'the same pixels either way round');
});

Draw('drawDot: a filled disc of pixel centres within the radius, clipped at the border', () => {
  const img = blank(11, 11, GRAY);
  drawDot(img, 5, 5, 2, RED);
  const disc = (cx: number, cy: number, r: number) => (x: number, y: number) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  assert.is(ascii(img), expected(11, 11, disc(5, 5, 2)));
  assert.is(ascii(img).split('#').length - 1, 13);

  const corner = blank(6, 6, GRAY);
  drawDot(corner, 0.4, 0.2, 3, RED);
  assert.is(ascii(corner), expected(6, 6, disc(0.4, 0.2, 3)));

  const one = blank(3, 3, GRAY);
  drawDot(one, 1, 1, 0, RED);
  drawDot(one, -10, -10, 5, RED); // wholly outside
  assert.is(ascii(one), expected(3, 3, (x, y) => x === 1 && y === 1));
});

Draw('drawText: ink stays inside textSize; clipped at the border', () => {
  const [w, h] = textSize('0.8', 2);
  const img = blank(w + 4, h + 4, GRAY);
  drawText(img, '0.8', 2, 2, RED, 2);
  const art = ascii(img).split('\n');
  art.forEach((row, y) =>
    [...row].forEach((c, x) => {
      if (c === '#') assert.ok(x >= 2 && x < 2 + w && y >= 2 && y < 2 + h, `ink at (${x}, ${y}) outside the text box`);
    }),
  );
  // '8' is a closed loop over a '0' with a bar, so it has more ink than '0'
  const ink = (s: string) => {
    const i = blank(3, 5, GRAY);
    drawText(i, s, 0, 0, RED);
    return ascii(i).split('#').length - 1;
  };
  assert.ok(ink('8') > ink('0') && ink('0') > ink('1') && ink('1') > ink('.'));
  drawText(img, '123', -5, -2, RED, 3); // partly outside: no throw
});

/** Rec. 601 luma of a colour. */
const luma = (c: readonly number[]) => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];

Draw('heat map ramp: 0 is near black, 1 is bright, brightness rises steadily', () => {
  assert.ok(luma(rampColor(0)) < 20, `0 -> ${rampColor(0)}`);
  assert.ok(luma(rampColor(1)) > 200, `1 -> ${rampColor(1)}`);
  for (let i = 1; i <= 20; i++) {
    assert.ok(luma(rampColor(i / 20)) > luma(rampColor((i - 1) / 20)), `brightness must rise at ${i / 20}`);
  }
  // out-of-range values clamp; NaN reads as 0
  assert.equal(rampColor(-3), rampColor(0));
  assert.equal(rampColor(NaN), rampColor(0));
  assert.equal(rampColor(7), rampColor(1));
});

Draw('heatMap: nearest-neighbour blocks, one per map cell', () => {
  const map = Float32Array.from([0, 0.5, 1, 1, 0.25, 0]); // (2, 3)
  const img = heatMap(map, 2, 3, 4, 6);
  assert.is(img.width, 6);
  assert.is(img.height, 4);
  for (let y = 0; y < 4; y++) {
    for (let x = 0; x < 6; x++) {
      assert.equal(px(img, x, y), [...rampColor(map[Math.floor(y / 2) * 3 + Math.floor(x / 2)])], `pixel (${x}, ${y})`);
    }
  }
  const same = heatMap(map, 2, 3, 2, 3); // no upscaling: one pixel per cell
  assert.equal(px(same, 2, 0), [...rampColor(1)]);
  assert.equal(px(same, 0, 1), [...rampColor(1)]);
});

Draw('blend: alpha 1 pastes, alpha 0.5 averages, both clipped', () => {
  const dst = blank(4, 3, [100, 100, 100]);
  blend(dst, blank(3, 3, [200, 0, 50]), -1, 1); // the top-left pixel of src lands outside
  assert.equal(px(dst, 0, 1), [200, 0, 50]);
  assert.equal(px(dst, 1, 2), [200, 0, 50]);
  assert.equal(px(dst, 2, 1), [100, 100, 100], 'src is 3 wide from x = -1: x = 2 is past it');
  assert.equal(px(dst, 0, 0), [100, 100, 100]);
  const half = blank(2, 2, [100, 100, 100]);
  blend(half, blank(2, 2, [200, 0, 51]), 0, 0, 0.5);
  assert.equal(px(half, 1, 1), [150, 50, 76]); // 75.5 rounds up
  blend(half, blank(5, 5, RED), 10, 10); // wholly outside: no throw
});

Draw('annotate: box and landmarks drawn on a copy; the input is untouched', () => {
  const image = blank(120, 100, GRAY);
  const landmarks = {} as Face['landmarks'];
  LANDMARK_NAMES.forEach((n, k) => (landmarks[n] = [40 + 10 * k, 55]));
  const face: Face = { box: [30.2, 20.7, 95.6, 90.1], x: 30.2, y: 20.7, width: 65.4, height: 69.4, score: 0.987, landmarks };
  const out = annotate(image, [face]);
  assert.ok(image.data.every((v, i) => v === GRAY[i % 3]), 'input modified');
  assert.equal(px(out, 60, 21), [...FACE_COLOR], 'top edge');
  assert.equal(px(out, 30, 60), [...FACE_COLOR], 'left edge');
  assert.equal(px(out, 96, 60), [...FACE_COLOR], 'right edge');
  assert.equal(px(out, 60, 90), [...FACE_COLOR], 'bottom edge');
  LANDMARK_NAMES.forEach((_, k) => assert.equal(px(out, 40 + 10 * k, 55), [...LANDMARK_COLORS[k]], `landmark ${k}`));
  assert.equal(px(out, 60, 75), [...GRAY], 'inside the box, away from the landmarks');
  assert.equal(px(out, 110, 95), [...GRAY], 'outside the box');
  // the score label sits above the box: some pixels there are no longer background
  let label = 0;
  for (let y = 0; y < 20; y++) for (let x = 30; x < 70; x++) if (px(out, x, y).join() !== GRAY.join()) label++;
  assert.ok(label > 0, 'score label drawn above the box');
  // a face whose box reaches past every border is clipped, not an error
  const big = annotate(image, [{ ...face, box: [-50, -40, 300, 200] }]);
  assert.is(big.data.length, image.data.length);
});

Draw.run();
