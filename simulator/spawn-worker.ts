/**
 * Start the model's worker thread. Built code (dist/) starts the .js entry
 * directly. Source code (.ts, under vitest or `node --import tsx`) needs the tsx
 * loader in the worker, and on Node 20 `execArgv: ['--import', 'tsx']` (what
 * core/platform's workerExecArgv gives) does not reach the worker's entry module
 * ("Unknown file extension .ts"), so a two-line bootstrap registers tsx first and
 * then imports the entry.
 */

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { workerExecArgv } from '../core/platform/worker.js';

export function spawnWorker(entry: URL, options: WorkerOptions): Worker {
  if (!entry.pathname.endsWith('.ts'))
    return new Worker(entry, { ...options, execArgv: workerExecArgv(entry) });
  // require.resolve gives the package's CommonJS build; the worker needs its ESM build beside it.
  const tsxCjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  const tsxApi = pathToFileURL(tsxCjs.replace(/\.cjs$/, '.mjs')).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
