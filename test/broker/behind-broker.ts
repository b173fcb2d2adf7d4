/**
 * A card accelerator served by an embedded broker, and a client accelerator over it
 * (the integrity tests through the broker). Each test file makes its own socket
 * directory with `socketDir()` and closes everything with `closingAll(...).close()`.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type Accelerator, type OpenAcceleratorOptions, openAccelerator } from '../../index.js';
import { type Broker, serve } from '../../server/index.js';

export interface Fronted {
  readonly client: Accelerator;
  readonly broker: Broker;
  readonly card: Accelerator;
}

/** A temporary directory for this file's sockets (made before its tests, removed after). */
export function socketDir(prefix: string): () => string {
  let dir = '';
  let sockets = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return () => join(dir, `b${sockets++}.sock`);
}

/**
 * The card accelerator `options` describe (its queue: `cardQueue`, default `options.queue`),
 * served by an embedded broker at `socketPath`; a client accelerator over it with
 * `options.queue` (or `clientQueue` when given).
 */
export async function behindBroker(
  socketPath: string,
  options: OpenAcceleratorOptions,
  cardQueue = options.queue,
  clientQueue = options.queue,
): Promise<Fronted> {
  const card = await openAccelerator({
    ...options,
    ...(cardQueue === undefined ? {} : { queue: cardQueue }),
  });
  const broker = await serve({ accelerator: card, socketPath, nonDumpable: false });
  const client = await openAccelerator({
    devices: [`broker:${socketPath}`],
    ...(clientQueue === undefined ? {} : { queue: clientQueue }),
  });
  return { client, broker, card };
}

/** The client accelerator, whose close also closes the broker and its card. */
export function closingAll({ client, broker, card }: Fronted): Accelerator {
  return {
    ...client,
    close: async (closeOptions) => {
      await client.close(closeOptions);
      await broker.close({ drainMs: 1000 });
      await card.close({ drain: false });
    },
  };
}
