/**
 * core/math: plain bigint arithmetic over the curves of core/driver/curves.ts and
 * RSA keys, with no I/O. Used by device models (simulator), the composition of
 * primitives (core/algorithms) and result checks.
 *
 * NOT CONSTANT-TIME. bigint operations leak their operands' sizes and values
 * through timing, so nothing here is a side-channel-safe implementation of a
 * private-key operation; the software provider does those with OpenSSL.
 */
export * from './ec.js';
export * from './modular.js';
export * from './rsa.js';
export * from './scalars.js';
export * from './sec1.js';
