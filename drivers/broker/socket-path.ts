/**
 * Where the broker listens by default (docs/broker.md): $PKACCEL_SOCKET, else
 * /run/pkaccel/pkaccel.sock as root, else $XDG_RUNTIME_DIR/pkaccel.sock, else
 * /tmp/pkaccel-<uid>/pkaccel.sock. The client driver and `pkaccel serve` share it.
 */

import { join } from 'node:path';

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PKACCEL_SOCKET) return env.PKACCEL_SOCKET;
  const uid = process.getuid?.() ?? -1;
  if (uid === 0) return '/run/pkaccel/pkaccel.sock';
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'pkaccel.sock');
  return join('/tmp', `pkaccel-${uid}`, 'pkaccel.sock');
}
