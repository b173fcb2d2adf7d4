/** Parameter types of the algorithms layer (re-exported by index.ts, the layer's surface). */

import type { HashName } from '../driver/keys.js';

export interface Options {
  readonly signal?: AbortSignal;
}

/** RSA signature schemes (RSASSA-PKCS1-v1_5, RSASSA-PSS with MGF1 over the same hash). */
export type RsaSignatureParams =
  | { readonly scheme: 'pkcs1-v1_5'; readonly hash: HashName }
  | { readonly scheme: 'pss'; readonly hash: HashName; readonly saltLength: number };

/** RSAES-OAEP with MGF1 over the same hash, and an optional label. */
export interface RsaOaepParams {
  readonly hash: HashName;
  readonly label?: Uint8Array;
}

/** ECDSA signature encoding: IEEE P1363 r‖s (WebCrypto's) or DER Ecdsa-Sig-Value. */
export type EcdsaSignatureFormat = 'p1363' | 'der';

/**
 * The caller's last step of an operation (core/api: the result as WebCrypto returns it, and
 * its errors as WebCrypto names them), applied where the operation settles — by the executor
 * itself when it can (runFirstThen) — so the caller makes no promise or reaction of its own.
 * With one, the operation's promise settles with `value(result)` or rejects with `error(error)`.
 * Neither may run a caller's code; `error` must not throw.
 */
export interface Last<in V, out T> {
  value(result: V): T;
  error(error: unknown): unknown;
}
