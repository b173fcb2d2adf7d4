/** Run by system.test.ts in a child process: changes process-wide state the runner must keep. */
import { isDumpable, setDumpable } from '../lib/system.js';

const scenario = process.argv[2];
if (scenario === 'dumpable') {
  const before = isDumpable();
  setDumpable(false);
  const after = isDumpable();
  setDumpable(true);
  console.log(JSON.stringify({ before, after, again: isDumpable() }));
} else {
  throw new Error(`unknown scenario ${scenario}`);
}
