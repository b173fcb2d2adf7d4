/**
 * Issue 15: a `broker:` completion gets the checks the device that computed it would
 * get in process. The broker flags (protocol flag bit 5) what its own queue settled on
 * its reference device (node:crypto); the client's gate treats that completion like a
 * reference device's — no host re-verification, no `signCheck: 'device'` verify job —
 * and everything else like a card's.
 *
 * - the flag on the wire: set by encodeOk, read by decodeOk, byte 6 bit 5;
 * - per completion: a broker over software flags its completions, one over a card does not;
 * - not re-verified: ECDSA signatures and verdicts from the broker's software device cost the
 *   client no host verification (a spy on core/integrity's host check) and no verify job back
 *   through the broker (the broker's per-client counter), where the same calls over a card do;
 * - honoured only for the reference device: a broker whose own gate is off, over a card that
 *   corrupts results with software beside it — every corrupted card result reaches the client
 *   unflagged and is withheld there: 0 wrong results.
 */

import { createHash, sign, verify } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { Completion, PrimitiveRequest } from '../../core/driver/index.js';
import { type GateRunner, IntegrityGate } from '../../core/integrity/index.js';
import { GATE_OFF, type IntegrityOptions } from '../../core/integrity/options.js';
import { BrokerDevice } from '../../drivers/broker/device.js';
import {
  decodeOk,
  encodeFrames,
  encodeOk,
  Flag,
  FrameReader,
  HEADER_BYTES,
} from '../../drivers/broker/protocol.js';
import type { Accelerator, QueueOptions } from '../../index.js';
import * as matrix from '../integrity/fault-matrix.js';
import { newEcKey } from '../support/keys.js';
import { collect } from '../support/sim.js';
import { behindBroker, closingAll, type Fronted, socketDir } from './behind-broker.js';

/** Calls of the gate's host ECDSA verification (core/integrity/ec.ts), in this process. */
const host = vi.hoisted(() => ({ ecdsaVerifications: 0 }));
vi.mock('../../core/integrity/ec.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../core/integrity/ec.js')>();
  return {
    ...actual,
    ecdsaSignatureValid: (...args: Parameters<typeof actual.ecdsaSignatureValid>) => {
      host.ecdsaVerifications++;
      return actual.ecdsaSignatureValid(...args);
    },
  };
});

const nextSocket = socketDir('pkaccel-broker-reference-');
const ec = newEcKey('P-256');

function digestOf(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** A valid signature for even i, another message's for odd i (the verdict is then false). */
function verifyRequest(i: number): { request: PrimitiveRequest; expected: boolean } {
  const data = Buffer.from([i, 0x15]);
  const signed = i % 2 === 0 ? data : Buffer.from('other');
  const signature = new Uint8Array(sign('sha256', signed, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }));
  return {
    request: { op: 'ecdsa-verify', key: ec.material.publicKey, digest: digestOf(data), signature },
    expected: i % 2 === 0,
  };
}

/** Sum of the jobs the broker accepted from its clients (control requests are not counted). */
function brokerSubmitted(fronted: Fronted): number {
  return fronted.broker.clients().reduce((n, c) => n + c.submitted, 0);
}

/**
 * n ECDSA signatures and n verifications by queue.submit (digest only: the client's host
 * check would be core/math's bigint one), each result checked with node:crypto.
 */
async function signAndVerify(client: Accelerator, n: number): Promise<void> {
  const signatures = await Promise.all(
    Array.from({ length: n }, (_, i) => {
      const data = Buffer.from([i, 0x51]);
      return client.queue
        .submit({ op: 'ecdsa-sign', key: ec.material, digest: digestOf(data) })
        .then((signature) => ({ data, signature }));
    }),
  );
  for (const { data, signature } of signatures)
    expect(verify('sha256', data, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
  const cases = Array.from({ length: n }, (_, i) => verifyRequest(i));
  const verdicts = await Promise.all(cases.map((c) => client.queue.submit(c.request)));
  expect(verdicts).toEqual(cases.map((c) => c.expected));
}

describe("the gate's per-completion reference flag", () => {
  const job = { deadline: Number.POSITIVE_INFINITY, signal: undefined };
  /** A runner that records the verify jobs the gate asks for and answers true. */
  function recording(): GateRunner & { ran: number } {
    const r = {
      ran: 0,
      covers: () => true,
      runOn: async () => {
        r.ran++;
        return true;
      },
    };
    return r;
  }

  it('a flagged completion gets a reference device’s checks; the next unflagged one a card’s', async () => {
    const runner = recording();
    const gate = new IntegrityGate({ verifyCheck: 'all' }, runner);
    gate.addDevice('broker', false);
    expect(gate.isReference('broker')).toBe(false);
    // A wrong verdict (this signature is another message's) and no witness.
    const { request } = verifyRequest(1);
    const before = host.ecdsaVerifications;
    expect(gate.check('broker', job, request, true, undefined, true)).toBeUndefined();
    expect(host.ecdsaVerifications - before).toBe(0);
    // Per completion, not per device: the same device's next completion without the flag is checked.
    expect(gate.check('broker', job, request, true, undefined)).toMatchObject({
      reason: expect.stringMatching(/differs from the host/),
    });
    expect(gate.check('broker', job, request, true, undefined, false)).toMatchObject({
      reason: expect.stringMatching(/differs from the host/),
    });
    expect(host.ecdsaVerifications - before).toBe(2);
  });

  it('a flagged ECDSA signature asks for no verify job; an unflagged one does; range checks stay', async () => {
    const runner = recording();
    // (A fresh gate: the one above learnt that this device's verdicts come without a witness, and
    // would verify signatures on the host instead of asking the device.)
    const gate = new IntegrityGate(undefined, runner);
    gate.addDevice('broker', false);
    const sign = { op: 'ecdsa-sign', key: ec.material, digest: digestOf(Buffer.from('g')) } as const;
    const signature = new Uint8Array(64).fill(1);
    expect(gate.check('broker', job, sign, signature, undefined, true)).toBeUndefined();
    expect(runner.ran).toBe(0);
    await expect(gate.check('broker', job, sign, signature, undefined)).resolves.toBeUndefined();
    expect(runner.ran).toBe(1);
    // The cheap checks stay: an out-of-range signature fails flagged or not.
    expect(gate.check('broker', job, sign, new Uint8Array(64), undefined, true)).toMatchObject({
      reason: expect.stringMatching(/out of range/),
    });
  });
});

describe('reference completions through the broker', () => {
  it('the flag travels in byte 6, bit 5 of a completion, and only when set', () => {
    for (const reference of [false, true]) {
      const bytes = encodeFrames([
        encodeOk(
          9,
          'ecdsa-verify',
          true,
          { kind: 'ecdsa-verify', x: new Uint8Array(32).fill(5) },
          undefined,
          reference,
        ),
      ]);
      expect(bytes[6]! & 0x20).toBe(reference ? 0x20 : 0);
      expect(Flag.reference).toBe(0x20);
      expect(bytes.length).toBeGreaterThan(HEADER_BYTES);
      const [frame] = new FrameReader().push(bytes);
      const out = decodeOk(frame!, 'ecdsa-verify');
      expect(out.reference).toBe(reference);
      expect(out.value).toBe(true);
      expect(out.witness).toEqual({ kind: 'ecdsa-verify', x: new Uint8Array(32).fill(5) });
    }
  });

  it('a broker flags what its software device computed, and not what its card computed', async () => {
    for (const [devices, flagged] of [
      [['software'], true],
      [['sim:ring'], false],
    ] as const) {
      const fronted = await behindBroker(nextSocket(), { devices: [...devices] });
      const device = new BrokerDevice('broker:t', fronted.broker.path, { depth: 8, reconnect: false });
      try {
        await device.start();
        const qp = device.queuePairs[0]!;
        const v = verifyRequest(0);
        qp.submit([
          { tag: 1, request: { op: 'ecdsa-sign', key: ec.material, digest: digestOf(Buffer.from('s')) } },
          { tag: 2, request: v.request },
        ]);
        const done: Completion[] = await collect(qp, 2);
        expect(done.map((c) => c.ok)).toEqual([true, true]);
        for (const c of done) expect(c.ok && c.reference).toBe(flagged);
      } finally {
        await device.close();
        await closingAll(fronted).close();
      }
    }
  }, 60_000);

  it('software completions are not re-verified by the client; card completions are', async () => {
    const n = 8;
    // signCheck 'all' and verifyCheck 'all': the client would verify every signature and verdict on
    // the host — unless the completion is a reference device's, as in process.
    const strict: QueueOptions = { integrity: { signCheck: 'all', verifyCheck: 'all' } };
    const seen: Record<string, { hostVerifications: number; brokerJobs: number }> = {};
    for (const device of ['software', 'sim:ring']) {
      for (const [policy, clientQueue] of [
        ['default', undefined],
        ['all', strict],
      ] as const) {
        const fronted = await behindBroker(nextSocket(), { devices: [device] }, undefined, clientQueue);
        try {
          const before = host.ecdsaVerifications;
          await signAndVerify(fronted.client, n);
          seen[`${device} ${policy}`] = {
            hostVerifications: host.ecdsaVerifications - before,
            // (A job the client's queue re-ran, on a loaded machine, is not a verify job.)
            brokerJobs: brokerSubmitted(fronted) - fronted.client.queue.snapshot().retried,
          };
        } finally {
          await closingAll(fronted).close();
        }
      }
    }
    // Software through the broker: n signatures + n verdicts, nothing more asked of the broker or
    // the client's CPU, whatever the policy (a reference device's signatures and verdicts are not redone).
    expect(seen['software default']).toEqual({ hostVerifications: 0, brokerJobs: 2 * n });
    expect(seen['software all']).toEqual({ hostVerifications: 0, brokerJobs: 2 * n });
    // The card through the broker keeps what it had: by default a verify job back through the broker
    // per signature (its witness decides it, no host verification); with 'all', the host verifies.
    expect(seen['sim:ring default']).toEqual({ hostVerifications: 0, brokerJobs: 3 * n });
    expect(seen['sim:ring all']!.hostVerifications).toBeGreaterThanOrEqual(2 * n);
    expect(seen['sim:ring all']!.brokerJobs).toBe(2 * n);
  }, 120_000);

  it('a corrupting card beside software, behind a broker with no gate: 0 wrong results reach the client', async () => {
    const off: IntegrityOptions = { [GATE_OFF]: true } as IntegrityOptions;
    const keys = matrix.makeKeys();
    const results: matrix.CellResult[] = [];
    const ran = { card: 0, software: 0 };
    for (const [fault, seed] of [
      ['corrupt', 3],
      ['corrupt', 4],
      ['garbage', 5],
    ] as const) {
      results.push(
        await matrix.runCell(keys, {
          card: 'ring',
          beside: true,
          fault,
          rate: 0.5,
          seed,
          jobs: 4,
          guardMs: 90_000,
          open: async (options) => {
            // The broker releases whatever its devices return: only the client's gate stands
            // between the card's corrupted results and the caller, and only the flag tells it
            // which results the software device computed.
            const fronted = await behindBroker(nextSocket(), options, { timeoutMs: 10_000, integrity: off });
            const accel = closingAll(fronted);
            return {
              ...accel,
              close: async (closeOptions) => {
                for (const d of fronted.card.queue.snapshot().devices)
                  ran[d.driver === 'software' ? 'software' : 'card'] += d.completed;
                await accel.close(closeOptions);
              },
            };
          },
        }),
      );
    }
    console.log(`\nbroker gate off, ring + software:\n${matrix.formatTable(results)}\n`);
    const outcomes = results.flatMap((r) => matrix.OPS.flatMap((op) => r.outcomes[op]));
    expect(outcomes.length).toBe(3 * 4 * matrix.OPS.length);
    expect({
      wrong: outcomes.filter((o) => o === 'wrong').length,
      unsettled: outcomes.filter((o) => o === 'unsettled').length,
    }).toEqual({ wrong: 0, unsettled: 0 });
    expect(outcomes.filter((o) => o === 'correct').length).toBeGreaterThan(outcomes.length / 4);
    // Both devices computed results the client received, and the card's corruptions reached the
    // client (nothing on the broker checked them) and were withheld there.
    expect(ran.card).toBeGreaterThan(0);
    expect(ran.software).toBeGreaterThan(0);
    expect(results.reduce((n, r) => n + r.integrityFaults, 0)).toBeGreaterThan(0);
  }, 600_000);
});
