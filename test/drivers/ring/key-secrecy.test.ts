/**
 * Key secrecy: after key loads and private-key operations, no private key
 * material is left anywhere in the card's DMA arena (the host memory the card
 * can see), in inline and worker mode.
 */
import { describe, expect, it } from 'vitest';
import type { EcPrivateKeyMaterial, RsaPrivateKeyMaterial } from '../../../core/driver/index.js';
import { bytesOf, card, contains, ecKey, harvestAll, rsaKey } from './harness.js';

/** Every secret of the keys as it would travel: fixed-width big-endian, and its leading 16 bytes alone. */
function secrets(rsa: RsaPrivateKeyMaterial, ecs: EcPrivateKeyMaterial[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const v of [rsa.d, rsa.p, rsa.q, rsa.dp, rsa.dq, rsa.qi]) {
    const bytes = bytesOf(v, Math.ceil(v.toString(16).length / 2));
    out.push(bytes, bytes.subarray(0, 16));
  }
  for (const ec of ecs) {
    const bytes = bytesOf(ec.d, ec.curve === 'P-256' ? 32 : 48);
    out.push(bytes, bytes.subarray(0, 16));
  }
  return out;
}

describe('ring card key secrecy', () => {
  for (const mode of ['inline', 'worker'] as const) {
    it(`${mode}: no key material in the DMA arena after loads, private ops, reset and reloads`, async () => {
      const c = await card(`mode=${mode}&depth=8`);
      const qp = c.device.queuePairs[1]!;
      const rsa = rsaKey(2048);
      const p256 = ecKey('P-256');
      const p384 = ecKey('P-384');
      const peer = ecKey('P-256');
      const jobs = [
        { tag: 1, request: { op: 'rsa-private' as const, key: rsa, input: bytesOf(777n, 256) } },
        { tag: 2, request: { op: 'ecdsa-sign' as const, key: p256, digest: new Uint8Array(32).fill(3) } },
        { tag: 3, request: { op: 'ecdsa-sign' as const, key: p384, digest: new Uint8Array(48).fill(4) } },
        { tag: 4, request: { op: 'ecdh' as const, key: p256, peer: peer.publicKey } },
      ];
      expect(qp.submit(jobs)).toBe(4);
      const done = await harvestAll(qp, 4);
      expect(done.every((x) => x.ok)).toBe(true);
      await c.device.reset(); // keys reload on next use
      expect(qp.submit(jobs.slice(0, 2))).toBe(2);
      expect((await harvestAll(qp, 2)).every((x) => x.ok)).toBe(true);
      expect(c.device.keySlots.loads).toBe(5);
      const arena = c.fn.sim.arena;
      // The scan can fail: prove it by planting a secret and finding it, then removing it.
      const planted = secrets(rsa, [p256])[0]!;
      arena.set(planted, arena.length - planted.length - 1);
      expect(contains(arena, planted)).toBe(true);
      arena.fill(0, arena.length - planted.length - 1);
      for (const secret of secrets(rsa, [p256, p384])) expect(contains(arena, secret)).toBe(false);
    });
  }
});
