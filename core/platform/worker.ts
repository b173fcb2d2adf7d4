/**
 * Worker threads are started from this package's own modules. Built code (dist/)
 * runs as it is; source code (.ts, as under vitest or `node --import tsx`) needs
 * the tsx loader in the worker too. Pass the result as `execArgv` to `new Worker`.
 */
export function workerExecArgv(workerUrl: URL): string[] {
  return workerUrl.pathname.endsWith('.ts') ? ['--import', 'tsx'] : [];
}
