/**
 * The ring card's RSA signature through subtle: RSA signing asks for the result's buffer
 * (rsa-private takesBuffer), the driver answers with a copy of its own (core/encoding
 * handOverCopy), and subtle returns that very buffer — no second copy. A queue.submit of the
 * same primitive without the flag gets a plain array.
 */

import { describe, expect, it } from 'vitest';
import { nullRegistry } from '../../../bench/lib/registries.js';
import { openAccelerator } from '../../../core/api/index.js';
import type { Completion, PrimitiveRequest, QueuePair } from '../../../core/driver/index.js';
import { GATE_OFF_OPTIONS } from '../../support/accel.js';
import { newRsaKey } from '../../support/keys.js';
import { closeAfterEach, openRing } from '../../support/sim.js';
import { passQueuePair, WrappedDevice } from '../../support/wrapped-device.js';

/** The ring card, with every value its queue pairs hand out kept. */
class Recording extends WrappedDevice {
  readonly values: unknown[] = [];
  protected override wrapQueuePair(qp: QueuePair): QueuePair {
    return passQueuePair(qp, {
      harvest: (sink, max) =>
        qp.harvest((completion: Completion) => {
          if (completion.ok) this.values.push(completion.value);
          sink(completion);
        }, max),
    });
  }
}

describe('ring card results handed over', () => {
  it("subtle's RSA-2048 signature is the driver's copy's own buffer; queue.submit's result is a plain array", async () => {
    const card = new Recording(await openRing());
    const accel = closeAfterEach(
      await openAccelerator({
        devices: ['null'],
        registry: nullRegistry(() => card),
        queue: { integrity: GATE_OFF_OPTIONS },
      }),
    );
    const rsa = newRsaKey(2048);
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const key = await accel.subtle.importKey('jwk', rsa.jwk, alg, false, ['sign']);
    const signature = await accel.subtle.sign(alg, key, new Uint8Array([1, 2, 3]));
    expect(signature.byteLength).toBe(256);
    const made = card.values.at(-1) as Uint8Array;
    expect(made).toBeInstanceOf(Uint8Array);
    expect(signature).toBe(made.buffer);

    const request: PrimitiveRequest = {
      op: 'rsa-private',
      key: rsa.material,
      input: new Uint8Array(256).fill(1),
    };
    const raw = (await accel.queue.submit(request)) as Uint8Array;
    expect(Object.getPrototypeOf(raw)).toBe(Uint8Array.prototype);
    expect(raw.length).toBe(256);
  });
});
