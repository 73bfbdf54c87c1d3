/**
 * What every `mtcnn` sub-command provides, and the option parsing they share.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MtcnnError } from '../../errors.ts';
import type { DetectOptions } from '../../types.ts';

export interface Command {
  name: string;
  summary: string;
  /** Full --help text. */
  usage: string;
  /** Resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

type Parsed<T extends NonNullable<ParseArgsConfig['options']>> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
>;

/** node:util parseArgs, strict, with a clear message on unknown options. */
export function parseCommandLine<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T): Parsed<T> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new MtcnnError('BAD_OPTIONS', (e as Error).message);
  }
}

/** The detection options every command accepts, as parseArgs declarations. */
export const DETECT_FLAGS = {
  minsize: { type: 'string' },
  factor: { type: 'string' },
  thresholds: { type: 'string' },
  weights: { type: 'string' },
} as const;

export const DETECT_FLAGS_HELP = `  --minsize N          smallest face, in pixels (default 20)
  --factor F           pyramid scale factor in (0, 1) (default 0.709)
  --thresholds A,B,C   P-Net, R-Net, O-Net thresholds (default 0.6,0.7,0.7)
  --weights FILE       weights file (default: weights/mtcnn.bin of this package)`;

function number(flag: string, text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new MtcnnError('BAD_OPTIONS', `--${flag} must be a number, got '${text}'`);
  return v;
}

/** DetectOptions from --minsize / --factor / --thresholds (validated later by resolveOptions). */
export function detectOptionsFrom(values: { minsize?: string; factor?: string; thresholds?: string }): DetectOptions {
  const options: DetectOptions = {};
  if (values.minsize !== undefined) options.minsize = number('minsize', values.minsize);
  if (values.factor !== undefined) options.factor = number('factor', values.factor);
  if (values.thresholds !== undefined) {
    const parts = values.thresholds.split(',').map((s) => number('thresholds', s));
    if (parts.length !== 3) throw new MtcnnError('BAD_OPTIONS', `--thresholds needs three numbers a,b,c, got '${values.thresholds}'`);
    options.thresholds = [parts[0], parts[1], parts[2]];
  }
  return options;
}
