/** The known-answer self-test (core/selftest): the shipped vectors, their primitive cases, and the per-device runner. */
export { type KnownAnswerCase, knownAnswerCases } from './cases.js';
export {
  casesFor,
  type SelfTestFailure,
  type SelfTestOptions,
  type SelfTestReport,
  selfTestDevice,
} from './device-self-test.js';
export { KAT_RELATIVE_PATH, type KatVector, katPath, loadKatVectors, packageRoot } from './vectors.js';
