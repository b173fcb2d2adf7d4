import { describe, expect, it } from 'vitest';
import { bigintToBytes, bytesToBigint } from '../../../core/driver/index.js';
import { modPow } from '../../../core/math/index.js';
import { openCard, rsaKey, runOne } from './helpers.js';

describe('window card smoke', () => {
  it('runs rsa-public', async () => {
    const card = await openCard();
    try {
      const { material } = rsaKey(1024);
      const x = 123456789n;
      const c = await runOne(card.qp, {
        op: 'rsa-public',
        key: material.publicKey,
        input: bigintToBytes(x, 128),
      });
      expect(c.ok).toBe(true);
      if (c.ok) expect(bytesToBigint(c.value as Uint8Array)).toBe(modPow(x, material.e, material.n));
    } finally {
      await card.close();
    }
  });
});
