/**
 * Integrity through the broker (issue 15): the broker's job queue gates its own
 * devices, and the client's gate runs again on every `broker:` completion. The
 * broker forwards the device's witness in the completion frame, so the client's
 * default checks (an ECDSA verdict against its witness, an RSA verdict against
 * the opened signature, an ECDH x with its y) work as they do in process.
 *
 * - the fault matrix of issue 11 with a broker in front of the faulty card
 *   (every fault kind, the card alone and with software beside it on the
 *   broker): 0 wrong results reach the client, every job settles;
 * - a broker whose own gate is off, over a card that corrupts every result: the
 *   client's gate withholds every one, and says the witness caught it (without
 *   the witness the client would have re-verified on the host instead).
 */

import { createECDH, createHash, createSign, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GATE_OFF, type IntegrityOptions } from '../../core/integrity/options.js';
import { BrokerDevice } from '../../drivers/broker/device.js';
import type { OpenAcceleratorOptions, QueueEvent } from '../../index.js';
import * as matrix from '../integrity/fault-matrix.js';
import { newEcKey, newRsaKey } from '../support/keys.js';
import { collect } from '../support/sim.js';
import * as fronting from './behind-broker.js';
import { closingAll } from './behind-broker.js';

const nextSocket = fronting.socketDir('pkaccel-broker-integrity-');

/** The card accelerator `options` describe, served by an embedded broker; a client accelerator over it. */
function behindBroker(options: OpenAcceleratorOptions, cardQueue = options.queue) {
  return fronting.behindBroker(nextSocket(), options, cardQueue);
}

describe('integrity through the broker', () => {
  it('completions carry the device witness (ecdsa-verify, rsa-verify, ecdh)', async () => {
    const fronted = await behindBroker({ devices: ['sim:ring'] });
    const device = new BrokerDevice('broker:t', fronted.broker.path, { depth: 8, reconnect: false });
    try {
      await device.start();
      const ec = newEcKey('P-256');
      const rsa = newRsaKey(2048);
      const ecSig = new Uint8Array(
        createSign('sha256').update('x').sign({ key: ec.privateKey, dsaEncoding: 'ieee-p1363' }),
      );
      const sha = new Uint8Array(createHash('sha256').update('x').digest());
      const rsaSig = new Uint8Array(createSign('sha256').update('x').sign(rsa.privateKey));
      const peer = createECDH('prime256v1');
      peer.generateKeys();
      const raw = peer.getPublicKey();
      const qp = device.queuePairs[0]!;
      qp.submit([
        {
          tag: 1,
          request: { op: 'ecdsa-verify', key: ec.material.publicKey, digest: sha, signature: ecSig },
        },
        {
          tag: 2,
          request: {
            op: 'rsa-verify',
            key: rsa.material.publicKey,
            padding: { scheme: 'pkcs1-v1_5', hash: 'SHA-256' },
            digest: sha,
            signature: rsaSig,
          },
        },
        {
          tag: 3,
          request: {
            op: 'ecdh',
            key: ec.material,
            peer: {
              kind: 'ec-public',
              curve: 'P-256',
              x: BigInt(`0x${raw.subarray(1, 33).toString('hex')}`),
              y: BigInt(`0x${raw.subarray(33).toString('hex')}`),
            },
          },
        },
      ]);
      const done = new Map((await collect(qp, 3)).map((c) => [c.tag, c]));
      const verify = done.get(1)!;
      const rsaVerify = done.get(2)!;
      const ecdh = done.get(3)!;
      expect(verify.ok && verify.value).toBe(true);
      expect(verify.ok && verify.witness?.kind).toBe('ecdsa-verify');
      // The ECDSA witness is x of u1·G + u2·Q: for a valid signature, ≡ r (mod n); r < n < p here.
      const r = ecSig.subarray(0, 32);
      expect(verify.ok && verify.witness?.kind === 'ecdsa-verify' && verify.witness.x).toEqual(r);
      expect(rsaVerify.ok && rsaVerify.value).toBe(true);
      expect(rsaVerify.ok && rsaVerify.witness?.kind).toBe('rsa-verify');
      expect(
        rsaVerify.ok && rsaVerify.witness?.kind === 'rsa-verify' && rsaVerify.witness.opened.length,
      ).toBe(256);
      expect(ecdh.ok && ecdh.witness?.kind).toBe('ecdh-point');
    } finally {
      await device.close();
      await closingAll(fronted).close();
    }
  }, 60_000);

  it("a corrupting card behind a broker with no gate: the client's gate catches it by the witness", async () => {
    const off: IntegrityOptions = { [GATE_OFF]: true } as IntegrityOptions;
    const fronted = await behindBroker(
      { devices: ['sim:ring?faults=corrupt:1&seed=3'], queue: { timeoutMs: 10_000 } },
      { timeoutMs: 10_000, integrity: off },
    );
    const reasons: string[] = [];
    const sub = fronted.client.events$.subscribe((e: QueueEvent) => {
      if (e.type === 'integrity-fault') reasons.push(e.reason);
    });
    try {
      const ec = newEcKey('P-256');
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, (_, i) => {
          const data = Buffer.from([i]);
          // Half valid signatures, half another message's (the verdict is then false).
          const signature = new Uint8Array(
            sign('sha256', i % 2 === 0 ? data : Buffer.from('other'), {
              key: ec.privateKey,
              dsaEncoding: 'ieee-p1363',
            }),
          );
          const digest = new Uint8Array(createHash('sha256').update(data).digest());
          return fronted.client.queue
            .submit({ op: 'ecdsa-verify', key: ec.material.publicKey, digest, signature })
            .then(
              (verdict) => (verdict === (i % 2 === 0) ? 'correct' : 'wrong'),
              (e: Error) => e.name,
            );
        }),
      );
      // Every result was corrupted on the card and nothing on the broker checked it. A flipped
      // verdict, or a flipped witness bit beside a true verdict, contradicts: withheld. (A flipped
      // witness bit beside a false verdict is consistent with it and the verdict is right: released.)
      expect(outcomes.filter((o) => o === 'wrong')).toEqual([]);
      expect(outcomes.filter((o) => o !== 'correct').length).toBeGreaterThan(0);
      expect(reasons.length).toBeGreaterThan(0);
      expect(reasons.every((r) => /contradicts its witness/.test(r))).toBe(true);
    } finally {
      sub.unsubscribe();
      await closingAll(fronted).close();
    }
  }, 120_000);

  it('the fault matrix through the broker: 0 wrong results, every job settled', async () => {
    const keys = matrix.makeKeys();
    let brokerFaults = 0;
    const specs: matrix.CellSpec[] = [];
    let index = 0;
    for (const fault of matrix.FAULTS) {
      for (const beside of [false, true]) {
        specs.push({
          card: 'ring',
          beside,
          fault,
          rate: [0.25, 0.5][index % 2]!,
          seed: 1 + (index % 5),
          jobs: 3,
          ...(beside ? {} : { queue: { timeoutMs: 5_000 } }),
          guardMs: 90_000,
          open: async (options) => {
            const fronted = await behindBroker(options);
            fronted.card.events$.subscribe((e) => {
              if (e.type === 'integrity-fault') brokerFaults++;
            });
            return closingAll(fronted);
          },
        });
        index++;
      }
    }
    const results: matrix.CellResult[] = [];
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < specs.length) results.push(await matrix.runCell(keys, specs[next++]!));
      }),
    );
    console.log(`\nthrough the broker:\n${matrix.formatTable(results)}\n`);
    const count = (outcome: string) =>
      results.reduce(
        (n, r) => n + matrix.OPS.reduce((m, op) => m + r.outcomes[op].filter((o) => o === outcome).length, 0),
        0,
      );
    const jobs = results.reduce((n, r) => n + matrix.OPS.reduce((m, op) => m + r.outcomes[op].length, 0), 0);
    expect(jobs).toBe(specs.length * 3 * matrix.OPS.length);
    expect(count('correct')).toBeGreaterThan(jobs / 2);
    // The corrupt cells were exercised: the broker's gate (or the client's) caught results.
    expect(brokerFaults + results.reduce((n, r) => n + r.integrityFaults, 0)).toBeGreaterThan(0);
    expect({ wrong: count('wrong'), unsettled: count('unsettled') }).toEqual({ wrong: 0, unsettled: 0 });
    expect(
      results.filter((r) => r.settleImbalance !== 0).map((r) => `${r.fault}${r.beside ? '+sw' : ''}`),
    ).toEqual([]);
  }, 600_000);
});
