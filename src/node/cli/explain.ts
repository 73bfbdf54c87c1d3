/**
 * `mtcnn explain photo.png --out DIR`: one detection as a walkthrough a reader
 * can look at. Writes DIR/index.html, one section per step of detect_face()
 * in order (a paragraph with this run's numbers, the src/ files that
 * implement it, its pictures), and the pictures as PNG files beside it.
 * The page is self-contained: inline CSS, relative image links, no script.
 * @module
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Detector } from '../../detect.ts';
import { MtcnnError } from '../../errors.ts';
import { buildExplanation, type Explanation, type Picture } from '../../explain.ts';
import { resolveOptions } from '../../options.ts';
import { readPng } from '../png.ts';
import { writePng } from '../png-write.ts';
import { loadWeightsFile } from '../weights.ts';
import { DETECT_FLAGS, DETECT_FLAGS_HELP, detectOptionsFrom, parseCommandLine, type Command } from './command.ts';

export const explainCommand: Command = {
  name: 'explain',
  summary: 'write a step-by-step walkthrough of one detection (index.html + pictures)',
  usage: `usage: mtcnn explain <image.png> --out DIR [options]

Runs the detector on one PNG and writes DIR/index.html: every step of
detect_face() in order (scale pyramid, P-Net heat maps, the windows left
after each stage, the crops R-Net and O-Net see, the faces), each with a
paragraph naming the numbers involved and the pictures that show it, as
PNG files beside the page. DIR is created if needed; files in it are
overwritten.

options:
  --out DIR            folder to write (required)
${DETECT_FLAGS_HELP}`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, { ...DETECT_FLAGS, out: { type: 'string' } });
    if (positionals.length !== 1) {
      throw new MtcnnError('BAD_OPTIONS', `explain takes exactly one image, got ${positionals.length} (see mtcnn explain --help)`);
    }
    if (values.out === undefined || values.out === '') throw new MtcnnError('BAD_OPTIONS', '--out DIR is required');
    const options = detectOptionsFrom(values);
    resolveOptions(options); // bad options fail before any file is read
    const detector = new Detector(loadWeightsFile(values.weights));
    const file = positionals[0];
    const image = readPng(file);
    const explanation = buildExplanation(image, detector.explain(image, options), options);
    const written = writeExplanation(explanation, values.out, basename(file));
    process.stdout.write(`${join(values.out, 'index.html')}: ${explanation.steps.length} steps, ${written} pictures\n`);
    return 0;
  },
};

/** Writes the pictures and index.html into `dir`; returns how many pictures. */
export function writeExplanation(e: Explanation, dir: string, title: string): number {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new MtcnnError('BAD_OPTIONS', `--out ${dir} is a file, not a folder`);
  mkdirSync(dir, { recursive: true });
  let count = 0;
  for (const step of e.steps) {
    for (const p of step.pictures) {
      writePng(join(dir, `${p.name}.png`), p.image);
      count++;
    }
  }
  writeFileSync(join(dir, 'index.html'), renderHtml(e, title));
  return count;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Paragraph text to HTML: escaped, with `backticks` as <code>. */
const prose = (s: string) => escapeHtml(s).replace(/`([^`]+)`/g, '<code>$1</code>');

function figure(p: Picture): string {
  const width = p.displayWidth ?? p.image.width;
  // Enlarged pictures keep hard pixel edges: a P-Net cell or a 24x24 crop
  // should look like the blocks it is, not a blur.
  const cls = width > p.image.width ? ' class="pixelated"' : '';
  return (
    `<figure><img src="${p.name}.png" width="${width}" alt="${escapeHtml(p.caption)}"${cls}>` +
    `<figcaption>${escapeHtml(p.caption)}</figcaption></figure>`
  );
}

const CSS = `
body { font: 16px/1.55 system-ui, sans-serif; color: #222; max-width: 960px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 2.2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.lead { color: #555; }
.files { font-size: 0.85em; color: #666; }
code { font: 0.9em ui-monospace, monospace; background: #f3f3f3; padding: 0 0.2em; border-radius: 3px; }
.pictures { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-end; }
figure { margin: 0; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #ccc; }
img.pixelated { image-rendering: pixelated; }
figcaption { font-size: 0.8em; color: #666; margin-top: 0.3em; }
`;

/** The walkthrough page: a title, then one section per step. */
export function renderHtml(e: Explanation, title: string): string {
  const o = e.options;
  const sections = e.steps.map(
    (s, i) => `<section id="${s.id}">
<h2>${i + 1}. ${escapeHtml(s.title)}</h2>
<div class="pictures">${s.pictures.map(figure).join('')}</div>
<p>${prose(s.text)}</p>
<p class="files">Implemented in ${s.files.map((f) => `<code>${escapeHtml(f)}</code>`).join(', ')}.</p>
</section>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MTCNN, step by step: ${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>MTCNN, step by step: ${escapeHtml(title)}</h1>
<p class="lead">How facenet's <code>detect_face()</code> (as ported by mtcnn-ts) finds the faces in this photo, with
<code>minsize</code> ${o.minsize}, <code>factor</code> ${o.factor}, <code>thresholds</code> [${o.thresholds.join(', ')}].</p>
${sections.join('\n')}
</body>
</html>
`;
}
