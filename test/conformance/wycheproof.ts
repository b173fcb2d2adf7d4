/**
 * Wycheproof conformance, written once and run per device path:
 *
 *   defineWycheproofSuite('software');   // test/conformance/software.test.ts
 *   defineWycheproofSuite('sim:ring');   // test/conformance/sim-ring.test.ts, …
 *
 * Every file of the vector directory (PKACCEL_VECTORS, default
 * <repo>/../shared/vectors/wycheproof) runs through `accel.subtle` (the DER
 * option for ECDSA DER files): every `valid` case must be accepted, every
 * `invalid` one rejected, and `acceptable` ones are counted both ways without
 * failing. rsa_pkcs1_2048_test.json (RSAES-PKCS1-v1_5 decryption) is used only
 * to show the API refuses that algorithm. A per-file table of counts is printed
 * after the suite. Without the directory the suite is skipped with a message.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derOctetString, derOid, derSequence, derUnsignedInteger } from '../../core/key-formats/der.js';
import {
  type Accelerator,
  type AcceleratorSubtle,
  type CryptoKeyLike,
  openAccelerator,
} from '../../index.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Where the vectors are: PKACCEL_VECTORS, or ../shared/vectors/wycheproof beside the repository. */
export const WYCHEPROOF_DIR =
  process.env.PKACCEL_VECTORS ?? resolve(here, '../../../shared/vectors/wycheproof');

export interface WycheproofSuiteOptions {
  /**
   * Count NotSupportedError on a case as "unsupported" instead of a failure, for
   * device paths that lack an algorithm (their report still shows the count).
   */
  readonly allowUnsupported?: boolean;
}

interface TestCase {
  readonly tcId: number;
  readonly comment: string;
  readonly result: 'valid' | 'invalid' | 'acceptable';
  readonly flags: readonly string[];
  readonly [field: string]: unknown;
}
interface TestGroup {
  readonly tests: readonly TestCase[];
  readonly [field: string]: unknown;
}
interface VectorFile {
  readonly schema: string;
  readonly testGroups: readonly TestGroup[];
}

/** One file's counts, as the table prints them. */
export interface FileReport {
  file: string;
  validOk: number;
  validTotal: number;
  invalidRejected: number;
  invalidTotal: number;
  acceptableAccepted: number;
  acceptableRejected: number;
  unsupported: number;
  /** Cases whose parameters WebCrypto does not define (SHA-224, an MGF1 hash unlike the message hash): not run. */
  outsideWebCrypto: number;
  /** For rsa_pkcs1_2048_test.json: cases the API refused as NotSupportedError. */
  refused: number;
  failures: string[];
}

const CURVES: Readonly<Record<string, 'P-256' | 'P-384' | 'P-521'>> = {
  secp256r1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
  'P-256': 'P-256',
  'P-384': 'P-384',
  'P-521': 'P-521',
};
const CURVE_OID = {
  'P-256': '1.2.840.10045.3.1.7',
  'P-384': '1.3.132.0.34',
  'P-521': '1.3.132.0.35',
} as const;
const FIELD_BYTES = { 'P-256': 32, 'P-384': 48, 'P-521': 66 } as const;

const hex = (value: unknown): Uint8Array => Uint8Array.from(Buffer.from(String(value ?? ''), 'hex'));

/** The outcome of one case: accepted (the operation succeeded with the expected result) or rejected, and why. */
type Outcome = { accepted: true } | { accepted: false; reason: string; unsupported: boolean };

async function outcomeOf(run: () => Promise<boolean>): Promise<Outcome> {
  try {
    return (await run())
      ? { accepted: true }
      : { accepted: false, reason: 'result mismatch/false', unsupported: false };
  } catch (error) {
    const e = error as Error;
    return {
      accepted: false,
      reason: `${e.name}: ${e.message}`,
      unsupported: e.name === 'NotSupportedError',
    };
  }
}

function equalBytes(a: ArrayBuffer, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/** A PKCS#8 EC private key from Wycheproof's raw scalar (OpenSSL derives the public point). */
function ecPkcs8(curve: 'P-256' | 'P-384' | 'P-521', scalarHex: string): Uint8Array {
  const d = BigInt(`0x${scalarHex || '0'}`);
  let h = d.toString(16).padStart(FIELD_BYTES[curve] * 2, '0');
  if (h.length > FIELD_BYTES[curve] * 2) h = h.slice(-FIELD_BYTES[curve] * 2); // let import reject it below
  const ecPrivateKey = derSequence(derUnsignedInteger(1n), derOctetString(hex(h)));
  return derSequence(
    derUnsignedInteger(0n),
    derSequence(derOid('1.2.840.10045.2.1'), derOid(CURVE_OID[curve])),
    derOctetString(ecPrivateKey),
  );
}

function x25519Pkcs8(privateHex: string): Uint8Array {
  return Uint8Array.from(
    Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), Buffer.from(hex(privateHex))]),
  );
}

function jwkOf(value: unknown): Record<string, unknown> {
  return typeof value === 'string'
    ? (JSON.parse(value) as Record<string, unknown>)
    : (value as Record<string, unknown>);
}

const WEBCRYPTO_HASHES = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];

/** Whether a group's parameters are expressible in WebCrypto at all. */
function inWebCrypto(group: TestGroup): boolean {
  if (group.sha !== undefined && !WEBCRYPTO_HASHES.includes(String(group.sha))) return false;
  if (group.mgfSha !== undefined && group.mgfSha !== group.sha) return false;
  return true;
}

type CaseRunner = (subtle: AcceleratorSubtle, group: TestGroup, tc: TestCase) => Promise<boolean>;

/** How each schema's cases run; each returns true when the case was accepted with the right result. */
function runnerFor(schema: string): CaseRunner | undefined {
  switch (schema) {
    case 'ecdsa_verify_schema_v1.json':
    case 'ecdsa_p1363_verify_schema_v1.json': {
      const format = schema.includes('p1363') ? 'p1363' : 'der';
      return async (subtle, group, tc) => {
        const key = group.publicKey as { curve: string };
        const alg = { name: 'ECDSA', namedCurve: CURVES[key.curve], hash: group.sha, format };
        const pub = await subtle.importKey('spki', hex(group.publicKeyDer), alg, false, ['verify']);
        return subtle.verify(alg, pub, hex(tc.sig), hex(tc.msg));
      };
    }
    case 'eddsa_verify_schema_v1.json':
      return async (subtle, group, tc) => {
        const pub = await subtle.importKey('spki', hex(group.publicKeyDer), 'Ed25519', false, ['verify']);
        return subtle.verify('Ed25519', pub, hex(tc.sig), hex(tc.msg));
      };
    case 'ecdh_test_schema_v1.json':
    case 'ecdh_webcrypto_test_schema_v1.json':
      return async (subtle, group, tc) => {
        const curve = CURVES[String(group.curve)]!;
        const alg = { name: 'ECDH', namedCurve: curve };
        let own: CryptoKeyLike;
        let peer: CryptoKeyLike;
        if (group.encoding === 'webcrypto') {
          own = await subtle.importKey('jwk', jwkOf(tc.private), alg, false, ['deriveBits']);
          peer = await subtle.importKey('jwk', jwkOf(tc.public), alg, false, []);
        } else {
          own = await subtle.importKey('pkcs8', ecPkcs8(curve, String(tc.private)), alg, false, [
            'deriveBits',
          ]);
          peer = await subtle.importKey('spki', hex(tc.public), alg, false, []);
        }
        return equalBytes(await subtle.deriveBits({ name: 'ECDH', public: peer }, own, null), hex(tc.shared));
      };
    case 'xdh_comp_schema_v1.json':
      return async (subtle, _group, tc) => {
        const own = await subtle.importKey('pkcs8', x25519Pkcs8(String(tc.private)), 'X25519', false, [
          'deriveBits',
        ]);
        const peer = await subtle.importKey('raw', hex(tc.public), 'X25519', false, []);
        return equalBytes(
          await subtle.deriveBits({ name: 'X25519', public: peer }, own, null),
          hex(tc.shared),
        );
      };
    case 'rsaes_oaep_decrypt_schema_v1.json':
      return async (subtle, group, tc) => {
        const alg = { name: 'RSA-OAEP', hash: group.sha };
        const key = await subtle.importKey('pkcs8', hex(group.privateKeyPkcs8), alg, false, ['decrypt']);
        const label = hex(tc.label);
        return equalBytes(await subtle.decrypt({ name: 'RSA-OAEP', label }, key, hex(tc.ct)), hex(tc.msg));
      };
    case 'rsassa_pkcs1_generate_schema_v1.json':
      return async (subtle, group, tc) => {
        const alg = { name: 'RSASSA-PKCS1-v1_5', hash: group.sha };
        const key = await subtle.importKey('pkcs8', hex(group.privateKeyPkcs8), alg, false, ['sign']);
        const pub = await subtle.importKey('spki', hex(group.keyDer), alg, false, ['verify']);
        const sig = await subtle.sign(alg, key, hex(tc.msg));
        return equalBytes(sig, hex(tc.sig)) && (await subtle.verify(alg, pub, sig, hex(tc.msg)));
      };
    case 'rsassa_pkcs1_verify_schema_v1.json':
      return async (subtle, group, tc) => {
        const alg = { name: 'RSASSA-PKCS1-v1_5', hash: group.sha };
        const pub = await subtle.importKey('spki', hex(group.publicKeyDer), alg, false, ['verify']);
        return subtle.verify(alg, pub, hex(tc.sig), hex(tc.msg));
      };
    case 'rsassa_pss_verify_schema_v1.json':
      return async (subtle, group, tc) => {
        const alg = { name: 'RSA-PSS', hash: group.sha, saltLength: group.sLen as number };
        const pub = await subtle.importKey('spki', hex(group.publicKeyDer), alg, false, ['verify']);
        return subtle.verify(alg, pub, hex(tc.sig), hex(tc.msg));
      };
    default:
      return undefined;
  }
}

/** RSAES-PKCS1-v1_5: every case must be refused with NotSupportedError, at import and at decrypt. */
async function refusePkcs1Encryption(
  subtle: AcceleratorSubtle,
  data: VectorFile,
  report: FileReport,
): Promise<void> {
  for (const group of data.testGroups) {
    let importName = '';
    try {
      await subtle.importKey('pkcs8', hex(group.privateKeyPkcs8), { name: 'RSAES-PKCS1-v1_5' }, false, [
        'decrypt',
      ]);
    } catch (error) {
      importName = (error as Error).name;
    }
    const oaepKey = await subtle.importKey(
      'pkcs8',
      hex(group.privateKeyPkcs8),
      { name: 'RSA-OAEP', hash: 'SHA-256' },
      false,
      ['decrypt'],
    );
    for (const tc of group.tests) {
      let decryptName = '';
      try {
        await subtle.decrypt({ name: 'RSAES-PKCS1-v1_5' }, oaepKey, hex(tc.ct));
      } catch (error) {
        decryptName = (error as Error).name;
      }
      if (importName === 'NotSupportedError' && decryptName === 'NotSupportedError') report.refused++;
      else
        report.failures.push(
          `tcId ${tc.tcId}: not refused (import ${importName || 'ok'}, decrypt ${decryptName || 'ok'})`,
        );
    }
  }
}

const CONCURRENCY = 16;

function tally(report: FileReport, tc: TestCase, outcome: Outcome, options: WycheproofSuiteOptions): void {
  if (!outcome.accepted && outcome.unsupported && options.allowUnsupported) {
    report.unsupported++;
    return;
  }
  if (tc.result === 'valid') {
    report.validTotal++;
    if (outcome.accepted) report.validOk++;
    else report.failures.push(`tcId ${tc.tcId} (valid, ${tc.comment}): rejected: ${outcome.reason}`);
  } else if (tc.result === 'invalid') {
    report.invalidTotal++;
    if (!outcome.accepted) report.invalidRejected++;
    else report.failures.push(`tcId ${tc.tcId} (invalid, ${tc.comment}): accepted`);
  } else if (outcome.accepted) report.acceptableAccepted++;
  else report.acceptableRejected++;
}

export async function runWycheproofFile(
  subtle: AcceleratorSubtle,
  file: string,
  options: WycheproofSuiteOptions = {},
): Promise<FileReport> {
  const data = JSON.parse(readFileSync(join(WYCHEPROOF_DIR, file), 'utf8')) as VectorFile;
  const report: FileReport = {
    file,
    validOk: 0,
    validTotal: 0,
    invalidRejected: 0,
    invalidTotal: 0,
    acceptableAccepted: 0,
    acceptableRejected: 0,
    unsupported: 0,
    outsideWebCrypto: 0,
    refused: 0,
    failures: [],
  };
  if (data.schema === 'rsaes_pkcs1_decrypt_schema_v1.json') {
    await refusePkcs1Encryption(subtle, data, report);
    return report;
  }
  const runner = runnerFor(data.schema);
  if (!runner) {
    report.failures.push(`no runner for schema ${data.schema}`);
    return report;
  }
  const cases: { group: TestGroup; tc: TestCase }[] = [];
  for (const group of data.testGroups) {
    if (inWebCrypto(group)) for (const tc of group.tests) cases.push({ group, tc });
    else report.outsideWebCrypto += group.tests.length;
  }
  // Several cases in flight at once, as an application would have them: it keeps
  // the device's queue busy and the suite fast; results are tallied per case.
  const outcomes = new Array<Outcome>(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      const { group, tc } = cases[i]!;
      outcomes[i] = await outcomeOf(() => runner(subtle, group, tc));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  for (const [i, { tc }] of cases.entries()) tally(report, tc, outcomes[i]!, options);
  return report;
}

/** The per-file table. */
export function formatReports(spec: string, reports: readonly FileReport[]): string {
  const header = [
    'file',
    'valid ok',
    'invalid rejected',
    'acceptable acc/rej',
    'not WebCrypto',
    'unsupported',
    'failures',
  ];
  const rows = reports.map((r) =>
    r.refused > 0 || r.file === 'rsa_pkcs1_2048_test.json'
      ? [r.file, `refused RSAES-PKCS1-v1_5: ${r.refused} cases`, '', '', '', '', String(r.failures.length)]
      : [
          r.file,
          `${r.validOk}/${r.validTotal}`,
          `${r.invalidRejected}/${r.invalidTotal}`,
          `${r.acceptableAccepted}/${r.acceptableRejected}`,
          String(r.outsideWebCrypto),
          String(r.unsupported),
          String(r.failures.length),
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [
    `Wycheproof on ${spec} (${WYCHEPROOF_DIR})`,
    line(header),
    widths.map((w) => '-'.repeat(w)).join('-|-'),
    ...rows.map(line),
  ].join('\n');
}

/**
 * Define the suite for one device spec. Keep this signature stable: every
 * device path's conformance test calls it.
 */
export function defineWycheproofSuite(spec: string, options: WycheproofSuiteOptions = {}): void {
  describe(`Wycheproof on ${spec}`, () => {
    if (!existsSync(WYCHEPROOF_DIR)) {
      it.skip(`Wycheproof vectors not found at ${WYCHEPROOF_DIR}: set PKACCEL_VECTORS to run them`, () => {});
      return;
    }
    const files = readdirSync(WYCHEPROOF_DIR)
      .filter((f) => f.endsWith('_test.json'))
      .sort();
    const reports: FileReport[] = [];
    let accel: Accelerator;
    beforeAll(async () => {
      accel = await openAccelerator({ devices: [spec] });
    });
    afterAll(async () => {
      await accel?.close();
      console.log(formatReports(spec, reports));
    });
    it('finds vector files', () => {
      expect(files.length).toBeGreaterThan(0);
    });
    for (const file of files) {
      it(file, async () => {
        const report = await runWycheproofFile(accel.subtle, file, options);
        reports.push(report);
        expect(report.failures).toEqual([]);
        expect(report.validTotal + report.invalidTotal + report.refused + report.unsupported).toBeGreaterThan(
          0,
        );
      });
    }
  });
}
