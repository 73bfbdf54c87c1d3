/**
 * `mtcnn trace`: a golden trace of any photo, without Python. The folder it
 * writes has the layout and content ../shared/mtcnn/tools/generate.py gives
 * the reference's run (README.md of the goldens, "golden/"), so it can be
 * compared with `mtcnn diff` against a trace of another MTCNN.
 * @module
 */
import { MtcnnError } from '../../errors.ts';
import { resolveOptions } from '../../options.ts';
import { tracePhoto, writeTrace } from '../trace-files.ts';
import { loadWeightsFile } from '../weights.ts';
import { DETECT_FLAGS, DETECT_FLAGS_HELP, detectOptionsFrom, parseCommandLine, type Command } from './command.ts';

export const traceCommand: Command = {
  name: 'trace',
  summary: 'write every step of a detection as a golden trace (trace.json + .npy files)',
  usage: `usage: mtcnn trace <photo.png> --out DIR [--full] [options]

Runs the detection on one photo and writes into DIR what facenet's
detect_face.py computes at every helper call (imresample, pnet,
generateBoundingBox, nms, rerec, pad, bbreg, rnet, onet), in the golden
format of the reference material: DIR/trace.json lists the calls in order
with a sha256 digest of every array, and the arrays kept as files are
DIR/NNNN_<fn>_<key>.npy (NNNN the call's index), plus final_boxes.npy and
final_points.npy. As in the goldens, photos larger than 800x800 pixels keep
their pyramid images, P-Net maps and net inputs as digests only.
Files of an earlier trace in DIR are replaced.

options:
  --out DIR            folder to write (created if needed)
  --full               keep every array as a file, whatever the photo's size
                       (P-Net inputs and generateBoundingBox's maps included)
${DETECT_FLAGS_HELP}`,

  async run(args) {
    const { values, positionals } = parseCommandLine(args, { ...DETECT_FLAGS, out: { type: 'string' }, full: { type: 'boolean' } });
    if (positionals.length !== 1) {
      throw new MtcnnError('BAD_OPTIONS', `one photo expected, got ${positionals.length} (see mtcnn trace --help)`);
    }
    if (values.out === undefined) throw new MtcnnError('BAD_OPTIONS', '--out DIR is required (see mtcnn trace --help)');
    const options = detectOptionsFrom(values);
    resolveOptions(options); // bad options fail before any file is read
    const trace = tracePhoto(positionals[0], loadWeightsFile(values.weights), { ...options, full: values.full });
    writeTrace(values.out, trace);
    const j = trace.json;
    const ties = j.calls.reduce((s, c) => s + (typeof c.score_ties === 'number' ? c.score_ties : 0), 0);
    process.stdout.write(
      `${j.image}: ${j.height}x${j.width}, ${j.scales.length} scales, ${j.calls.length} calls, ${j.faces} faces, ` +
        `${ties} tied scores in nms inputs -> ${values.out}\n`,
    );
    return 0;
  },
};
