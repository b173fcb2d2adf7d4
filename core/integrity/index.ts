/**
 * core/integrity: the one gate every device result passes before release (see
 * gate.ts for what is checked and what each check proves). Imports only the
 * contracts (core/driver), core/encoding, core/math and node:crypto; the job
 * queue calls it.
 */
export * from './ec.js';
export * from './gate.js';
export {
  type IntegrityOptions,
  type ResolvedIntegrityOptions,
  resolveIntegrityOptions,
  type SignCheck,
  type VerifyCheck,
} from './options.js';
export * from './rsa.js';
