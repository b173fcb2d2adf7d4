/**
 * A device over another one, for tests and benches that change one behaviour of
 * a real device (a card pulled out and put back, queue pairs that hang): every
 * member passes through to `inner` unless a subclass overrides it, and each queue
 * pair goes through `wrapQueuePair` (by default passed as it is).
 */

import type {
  Capability,
  Device,
  DeviceEvent,
  DeviceInfo,
  DeviceState,
  QueuePair,
} from '../../core/driver/index.js';

export class WrappedDevice implements Device {
  #queuePairs: readonly QueuePair[] | undefined;

  constructor(readonly inner: Device) {}

  get info(): DeviceInfo {
    return this.inner.info;
  }
  get state(): DeviceState {
    return this.inner.state;
  }
  get capabilities(): readonly Capability[] {
    return this.inner.capabilities;
  }
  /** The inner device's queue pairs through `wrapQueuePair`, wrapped once. */
  get queuePairs(): readonly QueuePair[] {
    this.#queuePairs ??= this.inner.queuePairs.map((qp) => this.wrapQueuePair(qp));
    return this.#queuePairs;
  }
  subscribe(listener: (event: DeviceEvent) => void): () => void {
    return this.inner.subscribe(listener);
  }
  reset(signal?: AbortSignal): Promise<void> {
    return this.inner.reset(signal);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  protected wrapQueuePair(qp: QueuePair): QueuePair {
    return qp;
  }
}

/** What a wrapped queue pair may do differently (`inFlight` as a function of the inner pair's). */
export type QueuePairOverrides = Partial<
  Pick<QueuePair, 'submit' | 'harvest' | 'waitForCompletions' | 'abandon'>
> & {
  readonly inFlight?: () => number;
};

/** A queue pair that passes everything to `qp` except what `overrides` replaces. */
export function passQueuePair(qp: QueuePair, overrides: QueuePairOverrides = {}): QueuePair {
  return {
    get index() {
      return qp.index;
    },
    get depth() {
      return qp.depth;
    },
    get inFlight() {
      return overrides.inFlight ? overrides.inFlight() : qp.inFlight;
    },
    submit: overrides.submit ?? ((jobs) => qp.submit(jobs)),
    harvest: overrides.harvest ?? ((sink, max) => qp.harvest(sink, max)),
    waitForCompletions: overrides.waitForCompletions ?? ((signal) => qp.waitForCompletions(signal)),
    abandon: overrides.abandon ?? ((signal) => qp.abandon(signal)),
  };
}
