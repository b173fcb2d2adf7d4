/**
 * Atomics.waitAsync (Node 16+, ES2024) with its type: the project compiles
 * against the ES2023 library, which does not declare it.
 */

export type WaitAsyncResult =
  | { readonly async: false; readonly value: 'not-equal' | 'timed-out' }
  | { readonly async: true; readonly value: Promise<'ok' | 'timed-out'> };

const atomics = Atomics as typeof Atomics & {
  waitAsync(array: Int32Array, index: number, value: number, timeout?: number): WaitAsyncResult;
};

/** Resolves when `array[index]` is notified (or at once if it no longer holds `value`). */
export function waitAsync(
  array: Int32Array,
  index: number,
  value: number,
  timeoutMs?: number,
): WaitAsyncResult {
  return atomics.waitAsync(array, index, value, timeoutMs);
}
