/**
 * `queue.process(requests$)`: run a stream of requests with bounded concurrency.
 *
 * At most `concurrency` jobs are outstanding at once; in ordered mode a result
 * waiting for an earlier one to finish still holds its place, so the reorder
 * buffer is bounded too. Requests the source pushes beyond that wait in a FIFO
 * here (rxjs sources push; a source that can pause should be throttled by the
 * results, e.g. with a Subject fed from the output). The first failed job
 * errors the output and aborts the others; unsubscribing aborts everything in
 * flight.
 */

import { Observable } from 'rxjs';
import type { PrimitiveRequest, ResultOf } from '../driver/primitives.js';
import type { SubmitOptions } from './options.js';

/**
 * Options of `accel.queue.process(requests$, options)`, which runs a stream of
 * primitive requests with bounded concurrency.
 *
 * @category Queue and stats
 */
export interface ProcessOptions {
  /** Most jobs outstanding at once (default 64). */
  readonly concurrency?: number;
  /** Emit results in input order (default true); false emits each as it completes. */
  readonly ordered?: boolean;
  /** Per-job deadline, as for submit. */
  readonly timeoutMs?: number;
  /** Run only on this device. */
  readonly device?: string;
}

/** What process needs from the queue. */
export interface Submitter {
  submit<R extends PrimitiveRequest>(request: R, options?: SubmitOptions): Promise<ResultOf<R>>;
}

export function processRequests<R extends PrimitiveRequest>(
  queue: Submitter,
  requests$: Observable<R>,
  options: ProcessOptions = {},
): Observable<ResultOf<R>> {
  const concurrency = options.concurrency ?? 64;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`process concurrency must be a positive integer, got ${concurrency}`);
  const ordered = options.ordered ?? true;

  return new Observable<ResultOf<R>>((subscriber) => {
    const abort = new AbortController();
    const submitOptions: SubmitOptions = {
      signal: abort.signal,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.device === undefined ? {} : { device: options.device }),
    };
    const waiting: R[] = [];
    let waitingHead = 0;
    let outstanding = 0;
    let nextIndex = 0;
    let nextOut = 0;
    const reorder = new Map<number, ResultOf<R>>();
    let sourceDone = false;
    let stopped = false;

    const fail = (error: unknown): void => {
      if (stopped) return;
      stopped = true;
      abort.abort();
      subscriber.error(error);
    };

    const emitReady = (index: number, value: ResultOf<R>): void => {
      if (!ordered) {
        outstanding--;
        subscriber.next(value);
        return;
      }
      reorder.set(index, value);
      while (reorder.has(nextOut)) {
        const v = reorder.get(nextOut) as ResultOf<R>;
        reorder.delete(nextOut);
        nextOut++;
        outstanding--;
        subscriber.next(v);
        if (stopped) return;
      }
    };

    const pump = (): void => {
      while (!stopped && outstanding < concurrency && waitingHead < waiting.length) {
        const request = waiting[waitingHead]!;
        waiting[waitingHead++] = undefined as unknown as R;
        if (waitingHead > 1024 && waitingHead * 2 > waiting.length) {
          waiting.splice(0, waitingHead);
          waitingHead = 0;
        }
        const index = nextIndex++;
        outstanding++;
        queue.submit(request, submitOptions).then((value) => {
          if (stopped) return;
          emitReady(index, value);
          pump();
        }, fail);
      }
      if (!stopped && sourceDone && outstanding === 0 && waitingHead >= waiting.length) {
        stopped = true;
        subscriber.complete();
      }
    };

    const source = requests$.subscribe({
      next: (request) => {
        waiting.push(request);
        pump();
      },
      error: fail,
      complete: () => {
        sourceDone = true;
        pump();
      },
    });

    return () => {
      stopped = true;
      source.unsubscribe();
      abort.abort();
    };
  });
}
