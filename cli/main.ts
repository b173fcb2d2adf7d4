#!/usr/bin/env node
/** The `pkaccel` executable (package.json "bin" points at its build, dist/cli/main.js). */

import { run } from './program.js';

// `pkaccel stats --json | head` closes the pipe early: that is the reader's choice, not a failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await run(process.argv);
