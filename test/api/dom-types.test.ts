/**
 * `accel.crypto` is assignable to the DOM's `Crypto` type (lib "DOM", as a
 * browser-targeting library such as @peculiar/x509 or pkijs declares its
 * parameters), `accel.subtle` to `SubtleCrypto` and its keys to `CryptoKey`,
 * with no cast. (Node's own `webcrypto.Crypto` is checked by
 * test/api/webcrypto.test.ts under the project's typecheck.) The fixture is
 * compiled by tsc in a temporary project with lib ["ES2023", "DOM"].
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { consumerTsconfig } from '../support/consumer-tsconfig.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const FIXTURE = `
import { installGlobalCrypto, openAccelerator } from ${JSON.stringify(join(root, 'index.js'))};

export async function main(): Promise<void> {
  const accel = await openAccelerator({ devices: ['software'] });
  const asCrypto: Crypto = accel.crypto;
  const asSubtle: SubtleCrypto = accel.subtle;
  const pair = await accel.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const asKey: CryptoKey = pair.privateKey;
  const asPair: CryptoKeyPair = pair;
  const jwk: JsonWebKey = await asSubtle.exportKey('jwk', pair.publicKey);
  const restore: () => void = installGlobalCrypto(accel);
  restore();
  void [asCrypto, asKey, asPair, jwk];
  await accel.close();
}
`;

it('accel.crypto type-checks as the DOM Crypto, without a cast', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pkaccel-dom-types-'));
  try {
    writeFileSync(join(dir, 'fixture.ts'), FIXTURE);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify(
        consumerTsconfig(['fixture.ts'], {
          typeRoots: [join(root, 'node_modules/@types')],
          skipLibCheck: true,
        }),
      ),
    );
    let output = '';
    try {
      execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    // Errors in the library's own files under lib DOM would show too; the fixture's lines must be clean.
    expect(output.split('\n').filter((line) => line.includes('fixture.ts'))).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
