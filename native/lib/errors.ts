/**
 * The errors pcie-mmio raises where pkaccel's contracts ask for typed errors
 * (an aborted or closed interrupt wait, a device that is gone, a mode that is not
 * supported, a bad device spec). pcie-mmio imports nothing from pkaccel, so the
 * composition root hands in pkaccel's error classes; used on its own, pcie-mmio
 * throws plain Errors carrying the same stable `code`.
 */

/** An error class with pkaccel's constructor shape. */
export type ErrorClass = new (message: string, options?: { cause?: unknown }) => Error;

/** pkaccel's error classes (core/driver/errors.ts), or any with the same constructor shape. */
export interface ErrorClasses {
  readonly AbortedError: ErrorClass;
  readonly DeviceGoneError: ErrorClass;
  readonly UnsupportedError: ErrorClass;
  readonly InvalidInputError: ErrorClass;
}

/** A plain Error class carrying pkaccel's stable `code` and `name`. */
export function coded(code: string, name: string): ErrorClass {
  return class extends Error {
    readonly code = code;
    constructor(message: string, options?: { cause?: unknown }) {
      super(message, options);
      this.name = name;
    }
  };
}

/** Plain errors with pkaccel's stable codes, for pcie-mmio used on its own. */
export const defaultErrors: ErrorClasses = {
  AbortedError: coded('aborted', 'AbortedError'),
  DeviceGoneError: coded('device-gone', 'DeviceGoneError'),
  UnsupportedError: coded('unsupported', 'UnsupportedError'),
  InvalidInputError: coded('invalid-input', 'InvalidInputError'),
};
