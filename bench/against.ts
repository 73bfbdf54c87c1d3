/**
 * `npm run bench:against -- REV [--rounds N] [photos...]`: this checkout's
 * Detector against the one of git revision REV, in one process, on the shared
 * photos: CPU time of detect(), the two taking turns in every round, and
 * detectRaw's boxes and landmarks compared bit for bit. For a speed change
 * that must not change results (bench/RESULTS.md, "Against the code before
 * Winograd").
 *
 * REV is checked out with `git worktree` into a temporary folder (removed at
 * the end), sharing this checkout's node_modules. Both detectors get the
 * weights loaded here, so REV must read the same MtcnnWeights objects (true
 * of every revision since the weights format landed).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Detector } from '../src/detect.ts';
import { loadWeightsFile } from '../src/node/weights.ts';
import { REPO_ROOT, cpuMs, defaultPhotos, loadPhoto, machine, median, resolvePhoto, sameBits, table } from './lib.ts';

function parseArgs(argv: string[]) {
  let rounds = 3;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') rounds = Number(argv[++i]);
    else rest.push(argv[i]);
  }
  const [rev, ...photos] = rest;
  if (rev === undefined) throw new Error('usage: npm run bench:against -- REV [--rounds N] [photos...]');
  if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error('--rounds takes a positive integer');
  return { rev, rounds, photos: photos.length > 0 ? photos.map(resolvePhoto) : defaultPhotos() };
}

const { rev, rounds, photos } = parseArgs(process.argv.slice(2));
const git = (...args: string[]) => execFileSync('git', ['-C', REPO_ROOT, ...args], { encoding: 'utf8' }).trim();
const sha = git('rev-parse', '--short', rev);
const dir = mkdtempSync(join(tmpdir(), 'mtcnn-against-'));
git('worktree', 'add', '--detach', dir, sha);
try {
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  const old = (await import(pathToFileURL(join(dir, 'src/detect.ts')).href)) as { Detector: typeof Detector };
  const weights = loadWeightsFile();
  const before = new old.Detector(weights), now = new Detector(weights);

  console.log(`mtcnn-ts against ${sha}, ${new Date().toISOString()}`);
  console.log(machine());
  console.log(`CPU ms of detect(), medians of ${rounds} rounds after a warm-up, the two taking turns; outputs = detectRaw's boxes and landmarks\n`);
  const rows: string[][] = [];
  for (const path of photos) {
    const { name, image } = loadPhoto(path);
    const same = sameBits(before.detectRaw(image), now.detectRaw(image)); // also the warm-up
    const tb: number[] = [], tn: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let t = cpuMs();
      before.detect(image);
      tb.push(cpuMs() - t);
      t = cpuMs();
      now.detect(image);
      tn.push(cpuMs() - t);
    }
    rows.push([name, median(tb).toFixed(0), median(tn).toFixed(0), `${(median(tb) / median(tn)).toFixed(2)}x`, same ? 'identical' : 'DIFFER']);
    console.error(`  ${name} done`);
  }
  console.log(table(['photo', sha, 'this checkout', 'speed-up', 'outputs'], rows));
} finally {
  git('worktree', 'remove', '--force', dir);
  rmSync(dir, { recursive: true, force: true });
}
