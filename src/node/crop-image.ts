/**
 * One image of `mtcnn crop` (see crop-job.ts): the body of the loop of
 * facenet's align_dataset_mtcnn.py (lines 83-135, facenet commit 4c33d4d):
 * read, detect, choose, crop, write. Run in the job's own thread with
 * --jobs 1 and in each worker thread (crop-worker.ts) otherwise; what goes
 * in and out is plain data, and the crops are written here, so pixels never
 * cross threads.
 * @module
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { alignFace } from '../align/align-face.ts';
import { cropFace, marginBox, pickFace, type PixelBox } from '../align/crop.ts';
import type { Detector } from '../detect.ts';
import type { DetectOptions, RgbImage } from '../types.ts';
import { readPng } from './png.ts';
import { encodePng } from './png-write.ts';

/** What a worker needs to crop one image; plain data, sent to worker threads. */
export interface CropSettings {
  output: string;
  margin: number;
  imageSize: number;
  allFaces: boolean;
  align: boolean;
  detect: DetectOptions;
}

/** One image to crop. */
export interface CropTask {
  /** Absolute or as-given path of the input PNG. */
  path: string;
  cls: string;
  stem: string;
}

/** One written face: its file in the class folder and the margin box. */
export interface FaceRecord {
  file: string;
  box: PixelBox;
}

/** An image's outcome: the faces written (none: no face found), or why it failed. */
export type CropResult = { faces: FaceRecord[] } | { error: string };

/**
 * Crops one image. Errors of any kind become `{ error }` naming the file:
 * one bad image never ends the run (the script, too, reports an unreadable
 * image and goes on, lines 84-86).
 */
export function processImage(detector: Detector, task: CropTask, s: CropSettings): CropResult {
  try {
    const image = readPng(task.path);
    const faces = detector.detect(image, s.detect);
    // Lines 102-114: all faces, or the one the script picks.
    const chosen = s.allFaces || faces.length === 0 ? faces : [faces[pickFace(faces, image.width, image.height)]];
    // Crop every face before writing any, so a failing face leaves no partial set of files.
    const crops = chosen.map((face, i) => {
      const file = s.allFaces ? `${task.stem}_${i}.png` : `${task.stem}.png`;
      if (s.align) {
        return { file, box: marginBox(face.box, s.margin, image.width, image.height), image: alignFace(image, face, s.imageSize) };
      }
      const crop = cropFace(image, face, { margin: s.margin, size: s.imageSize });
      return { file, box: crop.box, image: crop.image };
    });
    for (const c of crops) writeCrop(join(s.output, task.cls), c.file, c.image);
    return { faces: crops.map(({ file, box }) => ({ file, box })) };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { error: message.startsWith(task.path) ? message : `${task.path}: ${message}` };
  }
}

/** Writes a crop unless it exists: to `.<file>.part`, then renamed, so `file` is never half-written. */
function writeCrop(dir: string, file: string, image: RgbImage): void {
  const target = join(dir, file);
  if (existsSync(target)) return;
  mkdirSync(dir, { recursive: true });
  writeAtomic(target, encodePng(image));
}

/**
 * Writes `data` to `.<name>.part` beside `target`, then renames it over
 * `target`: a rename within a folder is atomic, so a reader (or a resumed
 * run) sees the old file or the whole new one, never part of it. The temp
 * name is fixed per target, so a run killed mid-write leaves at most one,
 * which the next write of that target replaces.
 */
export function writeAtomic(target: string, data: string | Uint8Array): void {
  const temp = join(dirname(target), `.${basename(target)}.part`);
  writeFileSync(temp, data);
  renameSync(temp, target);
}

