/**
 * One line per helper of detect_face.py saying what the step does, for
 * people reading a trace: `mtcnn diff` prints it under the first step that
 * differs, so the reader knows what went wrong there without the source at
 * hand. Kept in one table so that other views of a trace can share it.
 * @module
 */
import type { TraceFn } from '../pipeline/trace.ts';

export const STEP_NOTES: Readonly<Record<TraceFn, string>> = Object.freeze({
  imresample:
    'cv2.resize INTER_AREA: a pyramid level of the photo (uint8) or a candidate crop scaled to 24x24 / 48x48 (float64)',
  pnet: 'P-Net on one pyramid level, fed transposed (W x H): out0 = box regression, out1 = softmax (non-face, face) per 12x12 window',
  generateBoundingBox:
    'P-Net cells with face probability >= t become 12x12 windows mapped back to the photo (stride 2, / scale), with their score and regression',
  nms: 'non-maximum suppression: keep the best-scoring box and drop others overlapping it by more than the threshold (Union: IoU, Min: over the smaller box)',
  rerec: 'make each box a square around its centre, side = the longer side',
  pad: 'clip each box to the photo: 1-based source (y, ey, x, ex) and destination (dy, edy, dx, edx) ranges of the crop, and its size (tmpw, tmph)',
  bbreg: 'move each box by its net regression, in units of the box width/height (+1, MATLAB style)',
  rnet: 'R-Net on the 24x24 crops, fed transposed: out0 = box regression, out1 = softmax (non-face, face)',
  onet: 'O-Net on the 48x48 crops, fed transposed: out0 = box regression, out1 = 5 landmarks (x1..x5, y1..y5 as fractions of the box), out2 = softmax',
});
