// @ts-check
/**
 * The demo page's script: plain JavaScript over the compiled core, so the
 * browser loads exactly the modules a package user gets.
 *
 * A photo (picked, dropped, or named by ?image=<url>) is decoded by the
 * browser, drawn to a canvas, read back with getImageData, and that ImageData
 * goes straight to `detector.detect`. Boxes and landmarks are drawn over the
 * photo; the faces and the timings are listed beside it.
 *
 * With ?workers=N (or the page's checkbox) the detection is spread over N
 * Web Workers by WebParallelDetector (mtcnn-ts/web): the same faces, and
 * only the end-to-end time (the workers do the stages).
 *
 * For tests and tools the page publishes, after each photo:
 *   window.__mtcnnResult = { source, width, height, workers, isolated, faces, timings } or { source, error }
 * (isolated: whether the page is cross-origin isolated, so that the workers share the image's memory)
 *   window.__mtcnnImage  = the ImageData that was detected on
 */
import { Detector, LANDMARK_NAMES, parseWeights } from '../dist/index.js';
import { WebParallelDetector } from '../dist/web.js';

/** @typedef {import('../dist/index.js').Face} Face */
/** @typedef {{ label: string, ms: number }} Timing */

const BOX_COLOR = '#00ff00';
const LANDMARK_COLOR = '#ff00ff';

/** What each stage of Detector.detectTimed() covers, for the timings table (src/pipeline/timing.ts). */
const STAGE_LABELS = {
  pyramid: 'stage 1: resize the pyramid levels (INTER_AREA)',
  pnet: 'stage 1: P-Net over the pyramid',
  nms: 'candidates, NMS, calibration, padding',
  crops: 'stages 2-3: cut and resize the 24×24 / 48×48 crops',
  rnet: 'stage 2: R-Net on the crops',
  onet: 'stage 3: O-Net on the crops',
};

const params = new URLSearchParams(location.search);
/** Web Workers to spread the detection over: ?workers=N, else WebParallelDetector's default (one per core). */
const workersParam = Number(params.get('workers') ?? 0);
const workersBox = /** @type {HTMLInputElement} */ (document.getElementById('workers'));
workersBox.checked = workersParam > 0;
/** @type {WebParallelDetector | null} */
let parallel = null;
/** The WebParallelDetector, started on first use. @param {Detector} detector */
function parallelDetector(detector) {
  parallel ??= new WebParallelDetector(detector.weights, workersParam > 0 ? { workers: workersParam } : {});
  return parallel;
}
const view = /** @type {HTMLCanvasElement} */ (document.getElementById('view'));
const statusLine = /** @type {HTMLElement} */ (document.getElementById('status'));

/** @param {string} text @param {boolean} [isError] */
function setStatus(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle('error', isError);
}

/** @param {number} ms */
const fmtMs = (ms) => `${ms.toFixed(1)} ms`;

/**
 * The detector, once the weights are in: fetched from ?weights=<url>, else
 * weights/mtcnn.bin at the served root; when that fails, the user picks the file.
 * @returns {Promise<{ detector: Detector, ms: number }>}
 */
async function loadDetector() {
  const url = params.get('weights') ?? new URL('../weights/mtcnn.bin', import.meta.url).href;
  const t0 = performance.now();
  let response;
  try {
    response = await fetch(url);
  } catch {
    response = null; // offline or blocked: fall through to the file picker
  }
  if (response?.ok) {
    const detector = new Detector(parseWeights(await response.arrayBuffer()));
    return { detector, ms: performance.now() - t0 };
  }
  const picker = /** @type {HTMLElement} */ (document.getElementById('weights-pick'));
  const input = /** @type {HTMLInputElement} */ (document.getElementById('weights-file'));
  picker.hidden = false;
  setStatus(`${url}: ${response ? `HTTP ${response.status}` : 'fetch failed'}`, true);
  return new Promise((resolve) => {
    input.addEventListener('change', async function onPick() {
      const file = input.files?.[0];
      if (!file) return;
      const t1 = performance.now();
      try {
        const detector = new Detector(parseWeights(await file.arrayBuffer()));
        input.removeEventListener('change', onPick);
        picker.hidden = true;
        resolve({ detector, ms: performance.now() - t1 });
      } catch (e) {
        setStatus(`${file.name}: ${e instanceof Error ? e.message : e}`, true); // wrong file: pick again
      }
    });
  });
}

const ready = loadDetector();

/**
 * The photo's pixels as the browser decodes them. colorSpaceConversion
 * 'none' keeps the values stored in the file, ignoring any gamma or ICC
 * profile, as cv2.imread (the reference's reader) does. Canvases store
 * premultiplied colour, so the translucent pixels of a photo with alpha may
 * come back a little off; cv2 drops alpha, and opaque photos are exact.
 * JPEG decoders may differ from OpenCV's by a level here and there.
 * @param {Blob} blob
 * @returns {Promise<ImageData>}
 */
async function decode(blob) {
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext('2d', { willReadFrequently: true }));
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height, { colorSpace: 'srgb' });
}

/** The photo with the boxes, scores and landmarks over it. @param {ImageData} image @param {Face[]} faces */
function draw(image, faces) {
  view.width = image.width;
  view.height = image.height;
  const ctx = /** @type {CanvasRenderingContext2D} */ (view.getContext('2d'));
  ctx.putImageData(image, 0, 0);
  const line = Math.max(2, Math.round(Math.min(image.width, image.height) / 200));
  ctx.lineWidth = line;
  ctx.font = `${6 * line + 2}px system-ui, sans-serif`;
  ctx.textBaseline = 'bottom';
  faces.forEach((face, i) => {
    ctx.strokeStyle = BOX_COLOR;
    ctx.strokeRect(face.x, face.y, face.width, face.height);
    const label = `${i + 1}  ${face.score.toFixed(3)}`;
    const w = ctx.measureText(label).width + 2 * line;
    const h = 6 * line + 4;
    ctx.fillStyle = BOX_COLOR;
    ctx.fillRect(face.x - line / 2, face.y - h, w, h);
    ctx.fillStyle = '#000';
    ctx.fillText(label, face.x + line / 2, face.y);
    ctx.fillStyle = LANDMARK_COLOR;
    for (const name of LANDMARK_NAMES) {
      const [x, y] = face.landmarks[name];
      ctx.beginPath();
      ctx.arc(x, y, 1.5 * line, 0, 2 * Math.PI);
      ctx.fill();
    }
  });
}

/** @param {Face[]} faces */
function listFaces(faces) {
  const list = /** @type {HTMLElement} */ (document.getElementById('faces'));
  list.replaceChildren(
    ...faces.map((face) => {
      const li = document.createElement('li');
      const [x1, y1, x2, y2] = face.box;
      li.textContent = `score ${face.score.toFixed(5)}, box (${x1.toFixed(1)}, ${y1.toFixed(1)}) to (${x2.toFixed(1)}, ${y2.toFixed(1)}), ${face.width.toFixed(0)}×${face.height.toFixed(0)} px`;
      const small = document.createElement('small');
      small.textContent = LANDMARK_NAMES.map((n) => `${n} (${face.landmarks[n].map((v) => v.toFixed(1)).join(', ')})`).join(', ');
      li.append(document.createElement('br'), small);
      return li;
    }),
  );
  if (faces.length === 0) list.textContent = 'No faces found.';
}

/** @param {Timing[]} rows */
function listTimings(rows) {
  const table = /** @type {HTMLTableElement} */ (document.getElementById('timings'));
  table.replaceChildren(
    ...rows.map(({ label, ms }) => {
      const tr = document.createElement('tr');
      const name = document.createElement('td');
      const value = document.createElement('td');
      name.textContent = label;
      value.textContent = fmtMs(ms);
      value.className = 'ms';
      tr.append(name, value);
      return tr;
    }),
  );
}

/** Lets the page paint (the status line) before the synchronous detection blocks it. */
const nextPaint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

/** The photo shown last, run again when the Web Workers box is ticked or cleared. @type {{ blob: Blob | Promise<Blob>, source: string } | null} */
let last = null;
workersBox.addEventListener('change', () => {
  if (last !== null) run(last.blob, last.source);
});

/**
 * Decodes, detects, draws and publishes one photo.
 * @param {Blob | Promise<Blob>} blob @param {string} source a name for the status line and the result
 */
async function run(blob, source) {
  last = { blob, source };
  const w = /** @type {any} */ (window);
  w.__mtcnnResult = undefined;
  try {
    setStatus(`Decoding ${source}…`);
    const t0 = performance.now();
    const image = await decode(await blob);
    const decodeMs = performance.now() - t0;
    const { detector, ms: weightsMs } = await ready;
    setStatus(`Detecting faces in ${source} (${image.width}×${image.height})…`);
    await nextPaint();
    let workers = 0;
    /** @type {Face[]} */
    let faces;
    /** @type {Timing[]} */
    let detectTimings;
    if (workersBox.checked) {
      const spread = parallelDetector(detector);
      workers = spread.workers;
      const t1 = performance.now();
      faces = await spread.detect(image);
      detectTimings = [{ label: `detect, end to end (${workers} Web Workers)`, ms: performance.now() - t1 }];
    } else {
      const { faces: found, timings: t } = detector.detectTimed(image);
      faces = found;
      detectTimings = [
        { label: 'detect, end to end', ms: t.total },
        ...Object.entries(STAGE_LABELS).map(([key, label]) => ({ label, ms: t[/** @type {keyof typeof t} */ (key)] })),
      ];
    }
    draw(image, faces);
    listFaces(faces);
    const timings = [
      { label: 'weights: fetch and parse (once)', ms: weightsMs },
      { label: 'decode the photo (browser)', ms: decodeMs },
      ...detectTimings,
    ];
    listTimings(timings);
    setStatus(`${source}: ${faces.length} face${faces.length === 1 ? '' : 's'} in ${fmtMs(detectTimings[0].ms)}.`);
    w.__mtcnnImage = image;
    w.__mtcnnResult = { source, width: image.width, height: image.height, workers, isolated: crossOriginIsolated, faces, timings };
  } catch (e) {
    setStatus(`${source}: ${e instanceof Error ? e.message : e}`, true);
    w.__mtcnnResult = { source, error: String(e instanceof Error ? e.stack ?? e.message : e) };
  }
}

/** @param {string} url */
async function fetchBlob(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.blob();
}

const fileInput = /** @type {HTMLInputElement} */ (document.getElementById('file'));
fileInput.addEventListener('change', () => {
  const file = fileInput.files?.[0];
  if (file) run(file, file.name);
});

// Drop anywhere on the page.
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  document.body.classList.add('dragging');
});
document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
document.addEventListener('drop', (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  const file = e.dataTransfer?.files[0];
  if (file) run(file, file.name);
});

// Shortcuts to the shared photos when the demo server offers them (absent on a plain static host).
fetch(new URL('../photos/index.json', import.meta.url))
  .then((r) => (r.ok ? r.json() : []))
  .then((/** @type {string[]} */ names) => {
    const box = /** @type {HTMLElement} */ (document.getElementById('shortcuts'));
    for (const name of names) {
      const a = document.createElement('a');
      a.href = `?image=${encodeURIComponent(`../photos/${name}`)}`;
      a.textContent = name.replace(/\.\w+$/, '');
      box.append(a);
    }
    box.hidden = names.length === 0;
  })
  .catch(() => {});

const imageUrl = params.get('image');
if (imageUrl !== null) {
  run(fetchBlob(new URL(imageUrl, location.href).href), imageUrl);
} else {
  ready.then(
    () => setStatus('Ready. Pick or drop a photo.'),
    (e) => setStatus(`The weights: ${e instanceof Error ? e.message : e}`, true),
  );
}
