/**
 * Starts one of this folder's worker modules (parallel-worker, crop-worker)
 * in a worker thread. The compiled package starts the module's .js file; from
 * the TypeScript sources (a checkout, run through tsx: tests, benchmarks, the
 * CLI) a new thread has no TypeScript loader, so it first loads tsx's API and
 * imports the module's .ts file through it.
 * @module
 */
import { Worker } from 'node:worker_threads';

/** @param name the module's name in src/node/, without extension */
export function startWorker(name: 'parallel-worker' | 'crop-worker', workerData: unknown): Worker {
  const fromSources = new URL(import.meta.url).pathname.endsWith('.ts');
  const entry = new URL(`./${name}.${fromSources ? 'ts' : 'js'}`, import.meta.url);
  if (!fromSources) return new Worker(entry, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(entry.href)}))`;
  return new Worker(boot, { eval: true, workerData });
}
