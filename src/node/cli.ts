/**
 * The `mtcnn` command line: one program, one sub-command per job. Each
 * command lives in src/node/cli/<name>.ts and exports a Command.
 *
 *     mtcnn detect photo.png --json
 *     mtcnn <command> --help
 * @module
 */
import { MtcnnError } from '../errors.ts';
import type { Command } from './cli/command.ts';
import { detectCommand } from './cli/detect.ts';
import { explainCommand } from './cli/explain.ts';
import { traceCommand } from './cli/trace.ts';
import { diffCommand } from './cli/diff.ts';
import { cropCommand } from './cli/crop.ts';

const COMMANDS: Command[] = [detectCommand, explainCommand, traceCommand, diffCommand, cropCommand];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: mtcnn <command> [options]',
    '',
    'MTCNN face detection, equal step by step to facenet\'s detect_face.py.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `mtcnn <command> --help` for the options of each.',
  ].join('\n');
}

/** Runs the CLI; resolves to the process exit code. Errors print one line to stderr. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`mtcnn: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage + '\n');
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    // MtcnnError: bad input, named. A system error (EACCES, ENOSPC, ...): the
    // file system said no. Both are one line; anything else is a bug, and Node
    // prints its stack.
    const system = e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string';
    if (!(e instanceof MtcnnError) && !system) throw e;
    process.stderr.write(`mtcnn ${name}: ${(e as Error).message}\n`);
    return e instanceof MtcnnError && e.code === 'BAD_OPTIONS' ? 2 : 1; // 2: the command line itself is wrong
  }
}
