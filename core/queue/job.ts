/**
 * The job record: everything the queue keeps about one submitted job. Records
 * are pooled so the hot path allocates only the caller's promise; a record is
 * also the `Job` object a queue pair receives (`tag` and `request`), so
 * submitting allocates nothing either.
 */

import type { Alternative, Finish, Job, Witness } from '../driver/device.js';
import type { PkaccelError } from '../driver/errors.js';
import type { PrimitiveRequest } from '../driver/primitives.js';

/** Where a record is in its life. */
export const JobState = {
  /** In the pool. */
  free: 0,
  /** Waiting in the backlog for a queue pair. */
  backlog: 1,
  /** Given a tag on a queue pair (pending for this tick's doorbell, or in flight). */
  inFlight: 2,
  /** Settled early (aborted, timed out) while its tag is still out on a device: the result will be dropped. */
  discarded: 3,
} as const;
export type JobStateValue = (typeof JobState)[keyof typeof JobState];

/** What a record needs from the queue pair lane that holds its tag. */
export interface SlotHolder {
  /** The caller has given up on the job in `slot`: drop its result when it comes. */
  discard(slot: number): void;
}

/** Something a promise can be settled with. */
type Settle = (value: unknown) => void;

/** The request the pool leaves in free records, so they hold no caller data. */
const IDLE_REQUEST: PrimitiveRequest = Object.freeze({
  op: 'keygen',
  spec: Object.freeze({ kind: 'ec', curve: 'P-256' }),
}) as PrimitiveRequest;

const noop: Settle = () => {};

export class JobRecord implements Job {
  tag = 0;
  request: PrimitiveRequest = IDLE_REQUEST;
  state: JobStateValue = JobState.free;
  /** Bumped on every reuse and on leaving the backlog early: backlog entries with an old seq are stale. */
  seq = 0;
  resolve: Settle = noop;
  reject: Settle = noop;
  /** The caller's signal while an AbortWatch watches the job, and the job's index in its group. */
  signal: AbortSignal | undefined = undefined;
  watchIndex = -1;
  /** performance.now() value after which the job fails with TimeoutError; Infinity = none. */
  deadline = Number.POSITIVE_INFINITY;
  submittedAt = 0;
  dispatchedAt = 0;
  /** The lane and slot of its tag while in flight. */
  holder: SlotHolder | null = null;
  slot = -1;
  /** Failed attempts so far (device error, removal, stall). */
  attempts = 0;
  /** Device ids this job must not go to again (they refused it). */
  excluded: string[] | null = null;
  /** A device id to prefer against: the last one that failed it. */
  avoid: string | null = null;
  /** Only this device may run it. */
  pinned: string | null = null;
  /** For runFirst: the alternatives, the ones built so far (the first: builtIndex, builtFirst), and which one runs. */
  alternatives: readonly Alternative[] | null = null;
  builtIndex = -1;
  builtFirst: PrimitiveRequest | null = null;
  built: (PrimitiveRequest | undefined)[] | null = null;
  altIndex = 0;
  /** Set by the Scheduler at dispatch, for service-time learning: jobs in flight on the device. */
  aheadJobs = 0;
  /** The id of the device running it. */
  device = '';
  /** The last device error, reported if no device is left to retry on. */
  lastError: PkaccelError | null = null;
  /** SubmitOptions.witness: told the released value's witness and whether a reference device computed it. */
  onWitness: ((witness: Witness | undefined, reference: boolean) => void) | null = null;
  /** runFirstThen: the caller's last step, applied to the value and to the error the job settles with. */
  finish: Finish<unknown> | null = null;
  /** The probe request of alternative `i` (or the plain request), for capability checks. */
  probeOf(i: number): PrimitiveRequest {
    const alternatives = this.alternatives;
    if (alternatives === null) return this.request;
    const alt = alternatives[i]!;
    return 'probe' in alt ? alt.probe : alt;
  }

  /** Forget every reference to caller data, for the pool. */
  clear(): void {
    this.request = IDLE_REQUEST;
    this.state = JobState.free;
    this.seq++;
    this.resolve = noop;
    this.reject = noop;
    this.signal = undefined;
    this.watchIndex = -1;
    this.holder = null;
    this.slot = -1;
    this.attempts = 0;
    this.excluded = null;
    this.avoid = null;
    this.pinned = null;
    this.alternatives = null;
    this.builtIndex = -1;
    this.builtFirst = null;
    this.built = null;
    this.altIndex = 0;
    this.device = '';
    this.lastError = null;
    this.onWitness = null;
    this.finish = null;
  }
}

/** A free list of records, bounded so a burst does not pin memory forever. */
export class JobPool {
  readonly #free: JobRecord[] = [];
  readonly #max: number;

  constructor(max = 8192) {
    this.#max = max;
  }

  acquire(): JobRecord {
    return this.#free.pop() ?? new JobRecord();
  }

  release(record: JobRecord): void {
    record.clear();
    if (this.#free.length < this.#max) this.#free.push(record);
  }
}

// Promise executors that capture resolve/reject without allocating a closure per promise.
let capturedResolve: Settle = noop;
let capturedReject: Settle = noop;
function capture(resolve: Settle, reject: Settle): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/** A new promise whose settle functions are stored in `record`. */
export function promiseFor<T>(record: JobRecord): Promise<T> {
  const promise = new Promise<T>(capture as (resolve: (value: T) => void, reject: Settle) => void);
  record.resolve = capturedResolve;
  record.reject = capturedReject;
  capturedResolve = noop;
  capturedReject = noop;
  return promise;
}
