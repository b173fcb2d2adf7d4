/** One line that says what a device does, from its capability list (the full list goes to --json). */

import type { Capability } from '../index.js';

interface Family {
  readonly label: string;
  readonly caps: Capability[];
}

function familyOf(op: Capability['op']): string {
  if (op.startsWith('rsa-')) return 'RSA';
  if (op.startsWith('ecdsa-')) return 'ECDSA';
  if (op === 'ecdh') return 'ECDH';
  if (op === 'ec-mul') return 'EC-MUL';
  if (op.startsWith('eddsa-')) return 'EdDSA';
  if (op === 'x25519') return 'X25519';
  return 'keygen';
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function curvesOf(caps: readonly Capability[], field: 'curves' | 'okpCurves'): string {
  if (caps.some((c) => c[field] === undefined)) return 'any curve';
  return unique(caps.flatMap((c) => c[field] ?? [])).join('/');
}

function rsaSummary(caps: readonly Capability[]): string {
  const ranges = caps.map((c) => c.modulusBits);
  const bits = ranges.some((r) => r === undefined)
    ? 'any size'
    : `${Math.min(...ranges.map((r) => r!.min))}-${Math.max(...ranges.map((r) => r!.max))}`;
  const traits: string[] = [];
  if (caps.some((c) => c.op === 'rsa-public' || c.op === 'rsa-private')) traits.push('raw');
  if (
    caps.some(
      (c) =>
        c.paddings !== undefined || ['rsa-sign', 'rsa-verify', 'rsa-encrypt', 'rsa-decrypt'].includes(c.op),
    )
  )
    traits.push('padded');
  if (caps.some((c) => c.multiPrime === true)) traits.push('multi-prime');
  if (caps.some((c) => c.keyStorage?.includes('slot'))) traits.push('key slots');
  return `RSA ${bits} (${traits.join(', ')})`;
}

function familySummary(family: Family): string {
  const { label, caps } = family;
  switch (label) {
    case 'RSA':
      return rsaSummary(caps);
    case 'EdDSA':
      return caps.some((c) => c.okpCurves === undefined) ? 'EdDSA' : curvesOf(caps, 'okpCurves');
    case 'X25519':
      return 'X25519';
    case 'keygen':
      return `keygen ${caps.some((c) => c.keygen === undefined) ? 'all' : unique(caps.flatMap((c) => c.keygen ?? [])).join('/')}`;
    default: {
      const slot = caps.some((c) => c.keyStorage?.includes('slot')) ? ' (key slots)' : '';
      return `${label} ${curvesOf(caps, 'curves')}${slot}`;
    }
  }
}

/** "RSA 512-4096 (raw, key slots), ECDSA P-256/P-384 (key slots), ECDH P-256/P-384 (key slots)". */
export function summarizeCapabilities(capabilities: readonly Capability[]): string {
  if (capabilities.length === 0) return 'none';
  const families: Family[] = [];
  for (const cap of capabilities) {
    const label = familyOf(cap.op);
    let family = families.find((f) => f.label === label);
    if (!family) {
      family = { label, caps: [] };
      families.push(family);
    }
    family.caps.push(cap);
  }
  return families.map(familySummary).join(', ');
}
