/** The README's example, kept compiling and passing. */

import { expect, it } from 'vitest';
import { openAccelerator } from '../../index.js';

it('the README example works as written', async () => {
  const accel = await openAccelerator({ devices: ['software'] });
  const { subtle } = accel;
  const keys = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const data = new TextEncoder().encode('hello');
  const signature = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, data);
  expect(await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, keys.publicKey, signature, data)).toBe(true);
  // A device's JSON form (and util.inspect) shows its live state and capabilities too.
  expect(accel.devices.map((d) => Object.keys(JSON.parse(JSON.stringify(d))).sort())).toEqual([
    ['capabilities', 'driver', 'id', 'model', 'state'],
  ]);
  await accel.close();
});
