/**
 * The messages between the calling thread and the pool workers. Keys cross once
 * per worker: a request names its keys by number, and a batch carries the
 * material of the keys that worker has not seen yet (each worker builds and
 * caches its own OpenSSL objects). Byte arrays are sent as exact copies, because
 * cloning a view clones its whole underlying buffer.
 */

import type { PrimitiveValue } from '../../core/driver/index.js';
import type { WireError } from './errors.js';
import type { SyncRequest } from './operations.js';

/** A request with its key objects replaced by key numbers. */
export type WireRequest = Readonly<Record<string, unknown>> & { readonly op: SyncRequest['op'] };

export interface BatchMessage {
  readonly type: 'batch';
  /** Keys this worker has not seen: [key number, material]. */
  readonly keys: (readonly [number, object])[];
  /** [sequence number, request]. */
  readonly jobs: (readonly [number, WireRequest])[];
}

export interface ForgetMessage {
  readonly type: 'forget';
  readonly keys: readonly number[];
}

export type ToWorker = BatchMessage | ForgetMessage;

/** [sequence number, true, value] or [sequence number, false, error]. */
export type WireResult = readonly [number, true, PrimitiveValue] | readonly [number, false, WireError];

export interface ResultsMessage {
  readonly results: readonly WireResult[];
}

/** Fields of a request that may hold key material. */
const KEY_FIELDS = ['key', 'peer', 'scalar'] as const;
/** Fields of a request that hold bytes. */
const BYTE_FIELDS = ['input', 'digest', 'signature', 'message', 'peer'] as const;

/** A Uint8Array that owns exactly its bytes (cheap to clone), copying only when it is a view. */
export function exact(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

function isKey(value: unknown): value is object & { kind: string } {
  return typeof value === 'object' && value !== null && 'kind' in value;
}

/** The wire form of a request; `keyNumber` registers a key for the target worker. */
export function encodeRequest(request: SyncRequest, keyNumber: (material: object) => number): WireRequest {
  const out: Record<string, unknown> = { ...request };
  for (const field of KEY_FIELDS) {
    const value = out[field];
    if (isKey(value)) out[field] = keyNumber(value);
  }
  for (const field of BYTE_FIELDS) {
    const value = out[field];
    if (value instanceof Uint8Array) out[field] = exact(value);
  }
  const message = out.message as { hash: string; data: Uint8Array } | undefined;
  if (message !== undefined && !(message instanceof Uint8Array)) {
    out.message = { hash: message.hash, data: exact(message.data) };
  }
  const padding = out.padding as { label?: Uint8Array } | undefined;
  if (padding?.label !== undefined) out.padding = { ...padding, label: exact(padding.label) };
  return out as WireRequest;
}

/** The request a worker runs: key numbers replaced by the material it holds. */
export function decodeRequest(wire: WireRequest, keys: ReadonlyMap<number, object>): SyncRequest {
  const out: Record<string, unknown> = { ...wire };
  for (const field of KEY_FIELDS) {
    const value = out[field];
    if (typeof value === 'number') {
      const material = keys.get(value);
      if (material === undefined) throw new Error(`key #${value} was never sent to this worker`);
      out[field] = material;
    }
  }
  return out as unknown as SyncRequest;
}
