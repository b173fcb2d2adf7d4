/**
 * The `open` every virtual driver (software, broker, keyring, …) wrote out: honour
 * the caller's signal, parse the spec's options against the driver's schema (an
 * InvalidInputError naming the spec), then make the device from them.
 */

import type { DeviceSpec } from '../platform/pci.js';
import type { Device } from './device.js';
import { throwIfAborted } from './errors.js';
import { type ParsedProbeOptions, type ProbeOptionSchema, parseProbeOptions } from './probe-options.js';

/**
 * A virtual driver's `open` from its option schema and a function that makes the
 * device from the spec and its parsed options.
 *
 * @category Driver contracts
 */
export function openWithOptions<const S extends ProbeOptionSchema>(
  schema: S,
  make: (spec: DeviceSpec, options: ParsedProbeOptions<S>, signal?: AbortSignal) => Promise<Device>,
): (spec: DeviceSpec, signal?: AbortSignal) => Promise<Device> {
  return async (spec, signal) => {
    throwIfAborted(signal);
    return make(spec, parseProbeOptions(spec.options, schema, `device spec "${spec.text}"`), signal);
  };
}
