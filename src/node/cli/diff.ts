/**
 * `mtcnn diff`: two golden-format traces of the same photo, compared call by
 * call (src/io/trace-compare.ts), with one line per call and, at the first
 * call that differs beyond tolerance, where and by how much.
 *
 * Exit status: 0 when the traces agree within tolerance, 1 when they differ,
 * 2 when the command line is wrong or a path holds no trace.
 * @module
 */
import { MtcnnError } from '../../errors.ts';
import { compareTraces, formatDifference, stepName, type CompareReport, type StepResult } from '../../io/trace-compare.ts';
import { readTraceDir } from '../trace-files.ts';
import { parseCommandLine, type Command } from './command.ts';

export const diffCommand: Command = {
  name: 'diff',
  summary: 'compare two traces call by call and show the first step that differs',
  usage: `usage: mtcnn diff <traceA> <traceB>

Walks two trace folders (written by \`mtcnn trace\`, by facenet's reference
through generate.py, or by any MTCNN that dumps its steps in the same
format) in call order and prints, per call: equal, within tolerance, or
DIFFERENT. It stops at the first call that differs beyond tolerance and says
which step, which array, the largest difference and where, the first
differing values, and what the step does. Calls missing or extra, other
parameters, shapes or dtypes are reported as structural differences.

B is the reference side: tolerances that scale with a value use B's.
Arrays kept only as a digest are compared by digest: equal digests are equal
arrays; different digests fail where the values must be exact and are
"not comparable" elsewhere.

Exit status: 0 equal within tolerance, 1 different, 2 usage error.`,

  async run(args) {
    let a, b;
    try {
      const { positionals } = parseCommandLine(args, {});
      if (positionals.length !== 2) {
        throw new MtcnnError('BAD_OPTIONS', `two trace folders expected, got ${positionals.length} (see mtcnn diff --help)`);
      }
      a = readTraceDir(positionals[0], 'A');
      b = readTraceDir(positionals[1], 'B');
    } catch (e) {
      if (!(e instanceof MtcnnError)) throw e;
      process.stderr.write(`mtcnn diff: ${e.message}\n`);
      return 2;
    }
    const report = compareTraces(a, b);
    process.stdout.write(`A: ${a.dir}\nB: ${b.dir}\n`);
    for (const step of report.steps) process.stdout.write(stepLine(step) + '\n');
    process.stdout.write(summary(report) + '\n');
    return report.difference ? 1 : 0;
  },
};

const STATUS = { equal: 'equal', within: 'within tolerance', different: 'DIFFERENT', unchecked: 'not compared' } as const;

/** "  12  stage1        nms                  within tolerance, max |diff| 2.2e-06 (boxes)" and what was not compared by value. */
function stepLine(s: StepResult): string {
  const head =
    typeof s.step === 'number'
      ? `${String(s.step).padStart(6)}  ${(s.stage ?? '').padEnd(12)}  ${(s.fn ?? '').padEnd(19)}`
      : `${s.step.padEnd(6)}  ${s.step === 'header' ? 'image, parameters, pyramid' : 'faces, boxes, landmarks'}`.padEnd(41);
  const parts: string[] = [STATUS[s.status]];
  const worst = s.arrays.reduce((m, r) => (r.maxDiff > m.maxDiff ? r : m), { key: '', maxDiff: 0 });
  if (worst.maxDiff > 0) parts[0] += `, max |diff| ${worst.maxDiff.toExponential(1)} (${worst.key})`;
  const keys = (outcome: string) => s.arrays.filter((r) => r.outcome === outcome).map((r) => r.key).join(', ');
  if (keys('digest')) parts.push(`${keys('digest')} by digest`);
  if (keys('not-comparable')) parts.push(`${keys('not-comparable')}: digest only, not comparable`);
  if (keys('reordered')) parts.push(`${keys('reordered')}: rows reordered by a near tie, not compared`);
  parts.push(...s.notes);
  return `${head}  ${parts.join('; ')}`;
}

function summary(r: CompareReport): string {
  const calls = r.steps.filter((s) => typeof s.step === 'number' && s.status !== 'different');
  const count = (status: StepResult['status']) => calls.filter((s) => s.status === status).length;
  const unchecked = count('unchecked');
  const agreed =
    `${calls.length} call${calls.length === 1 ? '' : 's'} (${count('equal')} equal, ${count('within')} within tolerance` +
    (unchecked ? `, ${unchecked} not compared)` : ')');
  if (r.difference) {
    const before =
      r.difference.step === 'header'
        ? 'nothing compared before it.'
        : `agreed before it: the header and ${agreed}; A has ${r.calls[0]} calls, B has ${r.calls[1]}.`;
    return `\n${formatDifference(r.difference)}\n${before}`;
  }
  const notComparable = r.steps.reduce((n, s) => n + s.arrays.filter((x) => x.outcome === 'not-comparable').length, 0);
  const worst = Math.max(0, ...r.steps.flatMap((s) => s.arrays.map((x) => x.maxDiff)));
  return (
    `\nequal within tolerance: the header, ${agreed}, ${stepName({ step: 'final' })}; largest |diff| ${worst.toExponential(2)}` +
    (notComparable ? `; ${notComparable} arrays digest only, not comparable` : '') +
    (r.reorderings ? `; ${r.reorderings} near-tie reorderings` : '')
  );
}
