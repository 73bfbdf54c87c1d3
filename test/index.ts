/**
 * Runs every test/*.test.ts in one process with uvu (sorted by name, so the
 * order is stable). `npm test -- nets units` runs only the files whose names
 * contain one of the given words.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './helpers/data.ts';

const filters = process.argv.slice(2);
const dir = join(REPO_ROOT, 'test');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();

// uvu/run's protocol: defer execution, give each file its own queue group,
// import them all, then execute once so the summary covers every file.
const g = globalThis as any;
g.UVU_DEFER = 1;
const uvu = await import('uvu');
files.forEach((f, i) => {
  g.UVU_INDEX = i;
  g.UVU_QUEUE.push([f]);
});
for (let i = 0; i < files.length; i++) {
  g.UVU_INDEX = i;
  await import(pathToFileURL(join(dir, files[i])).href);
}
await uvu.exec(false);
