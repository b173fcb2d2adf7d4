/**
 * Start a worker thread from one of this package's own modules. Built code
 * (dist/) starts the .js entry directly. Source code (.ts, under vitest or
 * `node --import tsx`) needs the tsx loader inside the worker, and on Node 20
 * `execArgv: ['--import', 'tsx']` does not reach the worker's entry module
 * ("Unknown file extension .ts"), so a two-line bootstrap registers tsx's ESM API
 * first and then imports the entry.
 */

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The ESM build of tsx's register API (resolving it with require conditions gives the CJS build, which fails). */
function tsxEsmApi(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  return pathToFileURL(join(dirname(manifest), 'dist/esm/api/index.mjs')).href;
}

export function spawnWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const bootstrap = `import(${JSON.stringify(tsxEsmApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
