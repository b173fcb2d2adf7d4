import { sign as nodeSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openVirtio, rsaKey, runOne, sha256 } from './helpers.js';

describe('virtio-crypto on sim:virtio: smoke', () => {
  it('brings the device up and signs with PKCS#1 v1.5 / SHA-256 like node:crypto', async () => {
    const card = await openVirtio();
    try {
      expect(card.device.state).toBe('ready');
      const { material, key } = rsaKey(2048);
      const message = 'hello virtio';
      const c = await runOne(card.qp, {
        op: 'rsa-sign',
        key: material,
        padding: { scheme: 'pkcs1-v1_5', hash: 'SHA-256' },
        digest: sha256(message),
      });
      expect(c.ok).toBe(true);
      if (c.ok)
        expect(Buffer.from(c.value as Uint8Array)).toEqual(nodeSign('sha256', Buffer.from(message), key));
    } finally {
      await card.close();
    }
  });
});
