/**
 * The walkthrough of explain mode: for each step of detect_face(), a
 * paragraph naming the magic numbers involved (filled in with this run's
 * numbers) and the file implementing it, and the pictures that show it,
 * drawn with draw.ts from the Explanation that explain.ts read back from the
 * trace. Steps stop where the detection stopped, then the faces.
 * @module
 */
import { annotate, blank, blend, copyImage, drawRect, drawText, heatMap, textSize, type Color } from './draw.ts';
import type { Explanation, Level, NetCrops, Picture, Step } from './explain.ts';
import type { BoxArray } from './pipeline/boxes.ts';
import type { RgbImage } from './types.ts';

/** Box colours: one per pyramid level (cycled), and the stages' own. */
const LEVEL_COLORS: readonly Color[] = [
  [255, 70, 70], [255, 160, 0], [255, 235, 0], [70, 220, 70],
  [0, 200, 255], [80, 110, 255], [200, 80, 255], [255, 80, 200],
];
const STAGE1: Color = [0, 200, 255];
const STAGE2: Color = [255, 235, 0];
const PASS: Color = [40, 220, 80];
const FAIL: Color = [235, 50, 50];
const DROPPED: Color = [255, 150, 0];
const WHITE: Color = [255, 255, 255];

/** A darkened copy of the photo, so thin boxes stand out on it. */
function dimmed(img: RgbImage, amount = 0.4): RgbImage {
  const out = copyImage(img);
  blend(out, blank(img.width, img.height), 0, 0, amount);
  return out;
}

/** Line width that stays visible on large photos. */
const lineWidth = (img: RgbImage) => Math.max(1, Math.round(Math.min(img.width, img.height) / 300));

function drawBoxes(img: RgbImage, boxes: BoxArray, color: Color, thickness: number): void {
  const b = boxes.data,
    k = boxes.cols;
  for (let i = 0; i < boxes.rows; i++) {
    drawRect(img, b[i * k], b[i * k + 1], b[i * k + 2], b[i * k + 3], color, thickness);
  }
}

/** The levels side by side, bottom-aligned, each with P-Net's 12x12 window in its top-left corner. */
function pyramidPicture(levels: Level[]): RgbImage {
  const gap = 8;
  const width = levels.reduce((s, l) => s + l.width + gap, gap);
  const height = (levels[0]?.height ?? 0) + 2 * gap;
  const out = blank(width, height, WHITE);
  let x = gap;
  for (const l of levels) {
    const y = height - gap - l.height;
    blend(out, l.image, x, y);
    drawRect(out, x, y, x + 11, y + 11, PASS);
    x += l.width + gap;
  }
  return out;
}

function pyramid(levels: Level[]): Picture {
  const image = pyramidPicture(levels);
  const width = Math.min(900, displayWidth(image.width));
  return { name: 'pyramid', image, caption: 'the levels at their own sizes', displayWidth: width };
}

/** (h, w, 3) -> (w, h, 3): the image as the nets see it. */
function transposed(img: RgbImage): RgbImage {
  const out = blank(img.height, img.width);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * 3,
        d = (x * img.height + y) * 3;
      out.data[d] = img.data[s];
      out.data[d + 1] = img.data[s + 1];
      out.data[d + 2] = img.data[s + 2];
    }
  }
  return out;
}

/**
 * The level and, beside it, P-Net's map: cell (r, c) drawn as the 2x2 block at
 * the centre of its 12x12 window (level pixels 2r+5..2r+6, 2c+5..2c+6) over
 * the darkened level, so each colour sits where P-Net looked.
 */
function levelPicture(l: Level): RgbImage {
  const gap = Math.max(1, Math.round(l.width / 25));
  const out = blank(2 * l.width + gap, l.height, WHITE);
  blend(out, l.image, 0, 0);
  const base = dimmed(l.image, 0.75);
  const heat = heatMap(l.prob.data, l.prob.height, l.prob.width, 2 * l.prob.height, 2 * l.prob.width);
  blend(base, heat, 5, 5, 0.9);
  blend(out, base, l.width + gap, 0);
  return out;
}

/** Crops in a grid, each framed green (passed the net's threshold) or red, its score below. */
function cropSheet(c: NetCrops, threshold: number): RgbImage {
  const n = c.images.length,
    size = n > 0 ? c.images[0].width : 0;
  const cols = Math.min(12, n),
    rows = Math.ceil(n / cols);
  const cellW = size + 8,
    cellH = size + 14;
  const out = blank(cols * cellW, rows * cellH, WHITE);
  const t = Math.fround(threshold);
  for (let i = 0; i < n; i++) {
    const x = (i % cols) * cellW + 2,
      y = Math.floor(i / cols) * cellH + 2;
    const pass = c.scores[i] > t;
    drawRect(out, x, y, x + size + 3, y + size + 3, pass ? PASS : FAIL, 2);
    blend(out, c.images[i], x + 2, y + 2);
    const label = c.scores[i].toFixed(2);
    drawText(out, label, x + (size + 4 - textSize(label)[0]) / 2, y + size + 6, [40, 40, 40]);
  }
  return out;
}

const fmt = (v: number, digits = 4) => String(Number(v.toPrecision(digits)));
const size = (w: number, h: number) => `${w}x${h}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const sum = (a: number[]) => a.reduce((s, n) => s + n, 0);

/** Display width of a photo-sized picture: small ones enlarged by a whole factor (crisp pixels), large ones fit the page. */
const displayWidth = (width: number) => (width >= 360 ? Math.min(width, 720) : width * Math.ceil(360 / width));

/** A photo-sized picture: the photo, darkened, with boxes drawn by `draw`. */
function onPhoto(name: string, image: RgbImage, caption: string, draw: (img: RgbImage) => void): Picture {
  const img = dimmed(image);
  draw(img);
  return { name, image: img, caption, displayWidth: displayWidth(image.width) };
}

/** The walkthrough of a detection read back from its trace (buildExplanation's `steps`). */
export function writeSteps(e: Omit<Explanation, 'steps'>): Step[] {
  const { image, options: o, levels, stage1, stage2, stage3 } = e;
  const [t1, t2, t3] = o.thresholds;
  const lw = lineWidth(image);
  const photoSize = size(image.width, image.height);
  const steps: Step[] = [];

  steps.push({
    id: 'photo',
    title: 'The photo',
    text:
      `The detector works on RGB bytes, an (h, w, 3) array: this photo is ${photoSize}. It is exactly what facenet gets ` +
      `from \`cv2.imread\` and a BGR to RGB flip; gray and RGBA inputs become three channels first.`,
    files: ['src/node/png.ts', 'src/image/prepare.ts'],
    pictures: [{ name: 'photo', image, caption: photoSize, displayWidth: displayWidth(image.width) }],
  });

  const first = levels[0],
    last = levels[levels.length - 1];
  steps.push({
    id: 'pyramid',
    title: 'The scale pyramid',
    text:
      `P-Net only finds faces about 12x12 pixels big, so the photo is shrunk until every face from \`minsize\` = ` +
      `${o.minsize} pixels up passes through that size once. The first scale is 12/minsize = ${fmt(12 / o.minsize)}; ` +
      `each next one is \`factor\` = ${o.factor} times the last (about 1/sqrt(2): each level has half the pixels of the ` +
      `one before), while the shorter side times the scale is at least 12. ` +
      (levels.length === 0
        ? `This photo is too small for even one level, so there is nothing to detect.`
        : `This photo gives ${plural(levels.length, 'level')}, the first ${size(first.width, first.height)}, the last ` +
          `${size(last.width, last.height)}. A level's size is \`ceil(h*scale)\` x \`ceil(w*scale)\` (np.ceil, not ` +
          `rounding), and every level is resized from the full photo, not from the level before, with OpenCV's ` +
          `INTER_AREA (each output pixel the area-weighted mean of the input pixels it covers). The green square on ` +
          `each level is P-Net's 12x12 window: on the photo it covers faces of 12/scale pixels, ` +
          `${fmt(12 / first.scale, 3)} on the first level and ${fmt(12 / last.scale, 3)} on the last.`),
    files: ['src/pipeline/pyramid.ts', 'src/image/imresample.ts'],
    pictures: levels.length ? [pyramid(levels)] : [],
  });
  if (levels.length === 0) return [...steps, facesStep(e, 'the pyramid has no level')];

  steps.push({
    id: 'normalize',
    title: 'What P-Net is fed',
    text:
      `Each level's bytes become \`(x - 127.5) * 0.0078125\` (0.0078125 = 1/128, exact in binary), about [-1, 1], as ` +
      `the nets were trained. Then the level is transposed to W x H (\`np.transpose(img_x, (0,2,1,3))\`): the weights ` +
      `come from Caffe models trained with MATLAB, which stores images column by column, so the nets expect width and ` +
      `height swapped. On the right, level 1 as P-Net sees it (${size(first.height, first.width)}): the photo mirrored ` +
      `across its diagonal. The crops for R-Net and O-Net get the same treatment.`,
    files: ['src/image/prepare.ts'],
    pictures: [
      { name: 'level-1', image: first.image, caption: `level 1, ${size(first.width, first.height)}`, displayWidth: 240 },
      {
        name: 'pnet-input',
        image: transposed(first.image),
        caption: 'level 1 transposed',
        displayWidth: Math.round((240 * first.height) / first.width),
      },
    ],
  });

  const passing = levels.map((l) => l.candidates.rows);
  steps.push({
    id: 'pnet',
    title: "P-Net's face probability, level by level",
    text:
      `P-Net is fully convolutional: it gives one output cell per 12x12 window of the level (\`cellsize\` = 12), ` +
      `windows 2 pixels apart (\`stride\` = 2, from its one 2x2 max-pool), so a W x H level gives a map of ` +
      `\`ceil((W-2)/2) - 4\` x \`ceil((H-2)/2) - 4\` cells: ${size(first.prob.width, first.prob.height)} on level 1 ` +
      `down to ${size(last.prob.width, last.prob.height)} on level ${levels.length}. Its outputs come back transposed ` +
      `and are transposed back; channel 1 of its softmax is P(face), shown on the right of each level (black 0, ` +
      `yellow 1), each cell drawn at the centre of its window. \`generateBoundingBox\` keeps every cell with P(face) ` +
      `>= ${t1} (inclusive here, compared in float32) and maps cell (row r, column c) back to the photo as the window ` +
      `\`x1 = fix((2c+1)/scale)\`, \`y1 = fix((2r+1)/scale)\`, \`x2 = fix((2c+12)/scale)\`, ` +
      `\`y2 = fix((2r+12)/scale)\`: 1-based MATLAB coordinates (the +1), np.fix rounding toward zero, the cell's four ` +
      `regression numbers carried along. On this photo ${plural(sum(passing), 'cell')} pass (per level: ` +
      `${passing.join(', ')}).`,
    files: ['src/nets/pnet.ts', 'src/pipeline/stage1.ts', 'src/pipeline/boxes.ts'],
    pictures: levels.map((l, i) => {
      const pic = levelPicture(l);
      return {
        name: `pnet-${i + 1}`,
        image: pic,
        caption: `level ${i + 1}: ${size(l.width, l.height)}, scale ${fmt(l.scale)}, ${plural(passing[i], 'cell')} >= ${t1}`,
        displayWidth: Math.round((pic.width * 150) / pic.height), // every level 150 pixels high on screen
      };
    }),
  });

  const kept = levels.map((l) => l.kept.rows);
  const totalKept = sum(kept);
  steps.push({
    id: 'nms-level',
    title: 'Within each level: non-maximum suppression, Union 0.5',
    text:
      `Neighbouring cells see nearly the same window, so each level keeps only the best of overlapping ones. \`nms\` ` +
      `repeatedly takes the highest-scoring window left and drops every other whose overlap with it, intersection over ` +
      `union, is above 0.5; areas count pixels MATLAB-style, \`(x2-x1+1)*(y2-y1+1)\`, and equal scores are taken last ` +
      `index first. Per level: ${levels.map((_, i) => `${passing[i]} -> ${kept[i]}`).join(', ')}; in all stage 1 keeps ` +
      `${plural(totalKept, 'window')}, drawn here in one colour per level (red for level 1).`,
    files: ['src/pipeline/boxes.ts', 'src/pipeline/stage1.ts'],
    pictures: [
      onPhoto('stage1-levels', image, `${plural(totalKept, 'window')} from ${plural(levels.length, 'level')}`, (img) =>
        levels.forEach((l, i) => drawBoxes(img, l.kept, LEVEL_COLORS[i % LEVEL_COLORS.length], lw)),
      ),
    ],
  });
  if (totalKept === 0) return [...steps, facesStep(e, 'no P-Net cell passed')];

  const merged = stage1.merged.rows;
  steps.push({
    id: 'merge',
    title: 'Across levels: NMS Union 0.7, regression, squaring',
    text:
      `The windows of all levels go through \`nms\` once more, Union 0.7 (${totalKept} -> ${merged}` +
      (totalKept === merged ? ': windows of different levels differ in size, so few overlap that much). ' : '). ') +
      `Each is then moved by P-Net's regression, \`x1 + dx1*(x2-x1)\` and so on (no +1 in the width here, unlike ` +
      `bbreg later), made square around its centre by \`rerec\` (side = max(w, h)), and rounded toward zero with ` +
      `np.fix. These ${plural(stage1.boxes.rows, 'window')} go to stage 2.`,
    files: ['src/pipeline/stage1.ts', 'src/pipeline/boxes.ts'],
    pictures: [
      onPhoto('stage1', image, `after stage 1: ${plural(stage1.boxes.rows, 'window')}`, (img) =>
        drawBoxes(img, stage1.boxes, STAGE1, lw),
      ),
    ],
  });

  steps.push(cropStep('rnet-crops', stage2.crops, t2, stage1.boxes.rows));
  if (stage2.crops.count === 0) return [...steps, facesStep(e, 'no window could be cropped for R-Net')];

  const pass2 = stage2.passed.rows;
  steps.push({
    id: 'rnet',
    title: 'R-Net: rescoring and refining',
    text:
      `R-Net scores each crop. Windows with P(face) > ${t2} survive (strictly greater, unlike stage 1's >=): ` +
      `${pass2} of ${stage2.crops.count}. The survivors take R-Net's score, go through \`nms\` Union 0.7` +
      `${pass2 ? ` (${pass2} -> ${stage2.boxes.rows})` : ''}, are moved by R-Net's regression with \`bbreg\`, whose ` +
      `widths carry the MATLAB +1 (\`w = x2 - x1 + 1\`, \`x1 + dx1*w\`), and are squared again by \`rerec\`.`,
    files: ['src/nets/rnet.ts', 'src/pipeline/stage2.ts', 'src/pipeline/boxes.ts'],
    pictures: [
      onPhoto('stage2', image, `after stage 2: ${plural(stage2.boxes.rows, 'window')}`, (img) =>
        drawBoxes(img, stage2.boxes, STAGE2, lw + 1),
      ),
    ],
  });
  if (stage2.boxes.rows === 0) return [...steps, facesStep(e, 'no window passed R-Net')];

  steps.push(cropStep('onet-crops', stage3.crops, t3, stage2.boxes.rows));
  if (stage3.crops.count === 0) return [...steps, facesStep(e, 'no window could be cropped for O-Net')];

  const pass3 = stage3.passed.rows;
  steps.push({
    id: 'onet',
    title: 'O-Net: final score, box and landmarks',
    text:
      `O-Net gives each crop a score, a box regression and ten landmark numbers. Windows with P(face) > ${t3} ` +
      `survive: ${pass3} of ${stage3.crops.count}. Each landmark is placed relative to the window before its last ` +
      `regression: \`x = w*p + x1 - 1\` with \`w = x2 - x1 + 1\` (and likewise y with h and y1). Then \`bbreg\` moves ` +
      `the box, and \`nms\` with the 'Min' overlap, the intersection over the smaller area, at 0.7 removes boxes lying ` +
      `mostly inside a better one${pass3 ? ` (${pass3} -> ${stage3.boxes.rows})` : ''}. Orange: passed O-Net; green: ` +
      `kept by the last nms.`,
    files: ['src/nets/onet.ts', 'src/pipeline/stage3.ts', 'src/pipeline/boxes.ts'],
    pictures: [
      onPhoto('stage3', image, `after stage 3: ${plural(stage3.boxes.rows, 'face')}`, (img) => {
        drawBoxes(img, stage3.passed, DROPPED, lw + 1);
        drawBoxes(img, stage3.boxes, PASS, lw + 1);
      }),
    ],
  });
  return [...steps, facesStep(e, pass3 === 0 ? 'no window passed O-Net' : undefined)];
}

/** The crops of stage 2 (id 'rnet-crops', 24x24) or stage 3 ('onet-crops', 48x48), cut from `windows` windows. */
function cropStep(id: 'rnet-crops' | 'onet-crops', c: NetCrops, t: number, windows: number): Step {
  const [net, px] = id === 'rnet-crops' ? ['R-Net', 24] : ['O-Net', 48];
  const shown = c.images.length;
  const pictures: Picture[] = [];
  if (shown > 0) {
    const sheet = cropSheet(c, t);
    const zoom = px === 24 ? 3 : 2; // both crop sizes at about the same size on screen
    const width = Math.min(900, sheet.width * zoom);
    pictures.push({ name: id, image: sheet, caption: `${net} input, ${px}x${px} crops`, displayWidth: width });
  }
  const cut =
    id === 'onet-crops'
      ? `The windows are rounded toward zero with np.fix again and cut out as for R-Net, now resized to ${px}x${px}; ` +
        `${c.pastBorder} of ${plural(windows, 'window')} reach past the border. `
      : `Each window is cut out of the photo at its full size. \`pad\` gives the part inside the photo as MATLAB's ` +
        `1-based indices (\`x..ex\`, \`y..ey\`) and where it lands in the crop (\`dx..edx\`, \`dy..edy\`); the rest of ` +
        `the crop stays zero, black. Here ${c.pastBorder} of ${plural(windows, 'window')} reach past the border. Each ` +
        `crop is resized to ${px}x${px} with the same INTER_AREA resize (on float64 values), then normalised and ` +
        `transposed like the levels. `;
  const show =
    c.count === 0
      ? 'No crop could be cut (every window was degenerate).'
      : `Shown: ${shown === c.count ? `all ${c.count}` : `the first ${shown} of ${c.count}`}, framed green where ` +
        `${net}'s score is above ${t}, red otherwise, the score below.`;
  return {
    id,
    title: `Crops for ${net}`,
    text: cut + show,
    files: ['src/pipeline/crop.ts', 'src/pipeline/boxes.ts', 'src/image/imresample.ts'],
    pictures,
  };
}

/** The last step; `stopped` says why detect_face() ended early, when it did. */
function facesStep(e: Omit<Explanation, 'steps'>, stopped?: string): Step {
  const list = e.faces.map(
    (f, i) =>
      `Face ${i + 1}: box (${fmt(f.box[0])}, ${fmt(f.box[1])}) to (${fmt(f.box[2])}, ${fmt(f.box[3])}), ` +
      `${fmt(f.width, 3)}x${fmt(f.height, 3)}, score ${fmt(f.score, 5)}.`,
  );
  const found =
    ` ${list.join(' ')} Boxes are [x1, y1, x2, y2] in float64, neither rounded nor clipped to the photo, and the five ` +
    `landmarks are left eye, right eye, nose, left and right mouth corner (dots in that order: light blue, blue, ` +
    `yellow, pink, purple).`;
  const count = plural(e.faces.length, 'face');
  return {
    id: 'faces',
    title: 'The faces',
    text: `detect_face() returns ${count}` + (e.faces.length ? `.${found}` : stopped ? `: ${stopped}, so it stops there.` : '.'),
    files: ['src/detect.ts', 'src/draw.ts'],
    pictures: [{ name: 'faces', image: annotate(e.image, e.faces), caption: count, displayWidth: displayWidth(e.image.width) }],
  };
}
