/**
 * The third execution path: node's own libuv thread pool, through node:crypto's
 * callback forms of `sign` and `verify`. Each call is one pool task that runs
 * only OpenSSL (no JavaScript on the pool thread, no message to a worker), the
 * same path node's crypto.subtle takes minus WebCrypto's JavaScript layer.
 *
 * Only requests with such a form go here: RSA PKCS#1 v1.5 and PSS (MGF1 over the
 * signature hash, the only PSS node signs), ECDSA in IEEE P1363 encoding and
 * Ed25519/Ed448, each carrying the message (`PrehashedMessage` for RSA and ECDSA,
 * because OpenSSL signs messages, not digests). Everything else (ECDH, raw RSA,
 * OAEP, digest-only requests) stays with the worker pool.
 */

import {
  constants,
  type KeyObject,
  type SignKeyObjectInput,
  sign,
  type VerifyKeyObjectInput,
  verify,
} from 'node:crypto';
import {
  CURVES,
  InvalidInputError,
  type PrehashedMessage,
  type PrimitiveRequest,
  type PrimitiveValue,
  type RequestOf,
  type RsaSignaturePadding,
} from '../../core/driver/index.js';
import { NODE_HASH } from '../../core/encoding/hashes.js';
import { keyObjectOf } from './key-objects.js';
import { modulusBits, requireDigest } from './requests.js';

type WithMessage<R> = R & { readonly message: PrehashedMessage };

/** Requests the libuv pool can run. */
export type UvRequest =
  | WithMessage<RequestOf<'rsa-sign'>>
  | WithMessage<RequestOf<'rsa-verify'>>
  | WithMessage<RequestOf<'ecdsa-sign'>>
  | WithMessage<RequestOf<'ecdsa-verify'>>
  | RequestOf<'eddsa-sign'>
  | RequestOf<'eddsa-verify'>;

export type UvOutcome = { ok: true; value: PrimitiveValue } | { ok: false; error: unknown };

/** Whether `request` has a node:crypto callback form (and carries what that form needs). */
export function hasUvForm(request: PrimitiveRequest): request is UvRequest {
  switch (request.op) {
    case 'rsa-sign':
    case 'rsa-verify':
      // node signs PSS with MGF1 over the signature hash only; other combinations go to the workers.
      return (
        request.message !== undefined &&
        request.message.hash === request.padding.hash &&
        (request.padding.scheme === 'pkcs1-v1_5' || request.padding.mgfHash === request.padding.hash)
      );
    case 'ecdsa-sign':
    case 'ecdsa-verify':
      return request.message !== undefined;
    case 'eddsa-sign':
    case 'eddsa-verify':
      return true;
    default:
      return false;
  }
}

/** OpenSSL reads negative PSS salt lengths as special modes (digest length, maximum, auto): never pass one. */
function validSaltLength(padding: RsaSignaturePadding): boolean {
  return padding.scheme !== 'pss' || (Number.isInteger(padding.saltLength) && padding.saltLength >= 0);
}

function rsaKeyInput(key: KeyObject, padding: RsaSignaturePadding): SignKeyObjectInput {
  return padding.scheme === 'pkcs1-v1_5'
    ? { key, padding: constants.RSA_PKCS1_PADDING }
    : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: padding.saltLength };
}

/**
 * Tracks the pool tasks this device has started, so the calling thread runs a
 * lone job itself only when no pool task of ours is still running.
 */
export class UvPool {
  #inFlight = 0;

  get idle(): boolean {
    return this.#inFlight === 0;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Start `request` on libuv's pool; `done` is called exactly once, on the
   * calling thread (synchronously when the request fails before reaching the pool).
   */
  run(request: UvRequest, done: (outcome: UvOutcome) => void): void {
    let started = false;
    const finish = (outcome: UvOutcome) => {
      if (started) this.#inFlight--;
      done(outcome);
    };
    try {
      this.#start(request, finish);
      started = true;
      this.#inFlight++;
    } catch (error) {
      finish({ ok: false, error });
    }
  }

  #start(request: UvRequest, done: (outcome: UvOutcome) => void): void {
    const answer = (value: PrimitiveValue) => done({ ok: true, value });
    switch (request.op) {
      case 'rsa-sign': {
        requireDigest(request.op, request.padding.hash, request.digest);
        const bits = modulusBits(request.key);
        if (!validSaltLength(request.padding)) throw rsaSignRefused(request, bits);
        const input = rsaKeyInput(keyObjectOf(request.key), request.padding);
        sign(NODE_HASH[request.message.hash], request.message.data, input, (error, signature) => {
          if (error === null) answer(signature);
          else done({ ok: false, error: rsaSignRefused(request, bits, error) });
        });
        return;
      }
      case 'rsa-verify': {
        requireDigest(request.op, request.padding.hash, request.digest);
        if (
          !validSaltLength(request.padding) ||
          request.signature.length !== Math.ceil(modulusBits(request.key) / 8)
        ) {
          answer(false);
          return;
        }
        verifyOnPool(request, rsaKeyInput(keyObjectOf(request.key), request.padding), answer);
        return;
      }
      case 'ecdsa-sign': {
        const input = { key: keyObjectOf(request.key), dsaEncoding: 'ieee-p1363' } as const;
        sign(NODE_HASH[request.message.hash], request.message.data, input, (error, signature) => {
          if (error === null) answer(signature);
          else done({ ok: false, error });
        });
        return;
      }
      case 'ecdsa-verify': {
        if (request.signature.length !== 2 * CURVES[request.key.curve].bytes) {
          answer(false);
          return;
        }
        verifyOnPool(request, { key: keyObjectOf(request.key), dsaEncoding: 'ieee-p1363' }, answer);
        return;
      }
      case 'eddsa-sign':
        sign(null, request.message, keyObjectOf(request.key), (error, signature) => {
          if (error === null) answer(signature);
          else done({ ok: false, error });
        });
        return;
      case 'eddsa-verify':
        if (request.signature.length !== 64) {
          answer(false);
          return;
        }
        verify(null, request.message, keyObjectOf(request.key), request.signature, (error, valid) =>
          answer(error === null && valid),
        );
        return;
    }
  }
}

/** OpenSSL refuses an RSA signature only when the encoding does not fit the modulus (as requests.ts says it). */
function rsaSignRefused(request: UvRequest & { op: 'rsa-sign' }, bits: number, cause?: Error): Error {
  const padding = request.padding;
  const message =
    padding.scheme === 'pkcs1-v1_5'
      ? `${request.op}: a ${padding.hash} DigestInfo does not fit a ${bits}-bit modulus`
      : `${request.op}: PSS salt length ${padding.saltLength} does not fit a ${bits}-bit modulus with ${padding.hash}`;
  return new InvalidInputError(message, cause === undefined ? undefined : { cause });
}

/** node:crypto's callback verify of a request's message on libuv's pool; an error is a false verdict. */
function verifyOnPool(
  request: { readonly message: PrehashedMessage; readonly signature: Uint8Array },
  input: VerifyKeyObjectInput,
  answer: (valid: boolean) => void,
): void {
  verify(NODE_HASH[request.message.hash], request.message.data, input, request.signature, (error, valid) =>
    answer(error === null && valid),
  );
}
