/**
 * Start a pool worker from this folder. Built code (dist/) starts the .js file
 * directly. Source code (.ts, under vitest or `node --import tsx`) needs the tsx
 * loader in the worker, and on Node 20 `execArgv: ['--import', 'tsx']` (what
 * core/platform's workerExecArgv gives) does not reach the worker's entry module
 * ("Unknown file extension .ts"), so a two-line bootstrap registers tsx first and
 * then imports the entry.
 */

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { workerExecArgv } from '../../core/platform/index.js';

/** The ESM build of tsx's register API (resolving it with require conditions gives the CJS build, which fails). */
function tsxEsmApi(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  return pathToFileURL(join(dirname(manifest), 'dist/esm/api/index.mjs')).href;
}

export function spawnWorker(entry: URL): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { execArgv: workerExecArgv(entry) });
  const tsxApi = tsxEsmApi();
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true });
}
