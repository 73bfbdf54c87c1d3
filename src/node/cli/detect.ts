/**
 * `mtcnn detect`: faces in PNG files, as JSON.
 *
 * With one image and --json, stdout is exactly one object
 * `{"width", "height", "faces": [{"box": [x1, y1, x2, y2], "score", "landmarks": [[x, y] x 5]}]}`
 * holding the reference's raw float values (no rounding), faces in
 * detect_face()'s order, landmarks in O-Net's order (left eye, right eye,
 * nose, left mouth corner, right mouth corner). With several images or
 * folders, one such object per line (JSON Lines) with an added "image" path.
 * @module
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Detector } from '../../detect.ts';
import { annotate } from '../../draw.ts';
import { MtcnnError } from '../../errors.ts';
import { resolveOptions } from '../../options.ts';
import { LANDMARK_NAMES, type Face } from '../../types.ts';
import { readPng } from '../png.ts';
import { writePng } from '../png-write.ts';
import { loadWeightsFile } from '../weights.ts';
import { DETECT_FLAGS, DETECT_FLAGS_HELP, detectOptionsFrom, parseCommandLine, type Command } from './command.ts';

export const detectCommand: Command = {
  name: 'detect',
  summary: 'detect faces in PNG files or folders and print them as JSON',
  usage: `usage: mtcnn detect <image.png | folder>... [--json] [options]

Prints the faces found in each image. With --json (the default output for
scripts), one JSON object per image: {"width", "height", "faces": [{"box":
[x1, y1, x2, y2], "score", "landmarks": [[x, y] x 5]}]}, raw float values as
facenet's detect_face() computes them. Several images: one object per line,
each with an "image" field. Without --json, a short human-readable summary.

options:
  --json               JSON output
  --draw OUT.png       also write the image with boxes, landmarks and scores drawn (one image only)
${DETECT_FLAGS_HELP}`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, { ...DETECT_FLAGS, json: { type: 'boolean' }, draw: { type: 'string' } });
    if (positionals.length === 0) throw new MtcnnError('BAD_OPTIONS', 'no image given (see mtcnn detect --help)');
    const options = detectOptionsFrom(values);
    resolveOptions(options); // bad options fail before any file is read
    const detector = new Detector(loadWeightsFile(values.weights));
    const files = expandInputs(positionals);
    if (values.draw !== undefined && files.length !== 1) {
      throw new MtcnnError('BAD_OPTIONS', `--draw writes one picture, so it needs exactly one image; got ${files.length}`);
    }
    let failures = 0;
    for (const file of files) {
      try {
        const image = readPng(file);
        const faces = detector.detect(image, options);
        if (values.draw !== undefined) writePng(values.draw, annotate(image, faces));
        if (values.json) {
          const record = { ...(files.length > 1 ? { image: file } : {}), width: image.width, height: image.height, faces: faces.map(faceJson) };
          process.stdout.write(JSON.stringify(record) + '\n');
        } else {
          process.stdout.write(`${file}: ${image.width}x${image.height}, ${faces.length} face${faces.length === 1 ? '' : 's'}\n`);
          for (const f of faces) {
            const b = f.box.map((v) => v.toFixed(1)).join(', ');
            process.stdout.write(`  box [${b}]  score ${f.score.toFixed(4)}\n`);
          }
        }
      } catch (e) {
        if (!(e instanceof MtcnnError) || files.length === 1) throw e;
        failures++;
        process.stderr.write(`mtcnn detect: ${e.message}\n`);
      }
    }
    return failures > 0 ? 1 : 0;
  },
};

/** The JSON contract of one face. */
export function faceJson(f: Face) {
  return { box: f.box, score: f.score, landmarks: LANDMARK_NAMES.map((n) => f.landmarks[n]) };
}

/** Files as given, folders expanded to the .png files they hold (recursively, sorted). */
export function expandInputs(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.toLowerCase().endsWith('.png')) out.push(p);
    }
  };
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      throw new MtcnnError('NOT_FOUND', `no such file or folder: ${p}`);
    }
    if (isDir) walk(p);
    else out.push(p);
  }
  return out;
}
