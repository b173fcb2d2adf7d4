/**
 * The command's exit codes, and the error that means "you called it wrongly".
 * Scripts tell a failed self-test (1) from a mistyped command line (2) by these.
 */

export const EXIT_OK = 0;
/** The command ran and something failed: a vector, a device, a refusal to bind. */
export const EXIT_FAILURE = 1;
/** The command line was wrong: an unknown option, a bad value, a malformed address. */
export const EXIT_USAGE = 2;

/** A mistake in the command line; reported with the command's usage and exit code 2. */
export class UsageError extends Error {
  override get name(): string {
    return 'UsageError';
  }
}
