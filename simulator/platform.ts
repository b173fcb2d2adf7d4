/**
 * The simulated platform: implements core/platform over device models, for the
 * spec scheme "sim" (`sim:<model>?k=v&…`). It is the fallback platform: `auto`
 * opens one ring and one window card when no hardware is found.
 */

import type { DeviceSpec, PciFunctionInfo, Platform } from '../core/platform/pci.js';
import { SimPciFunction } from './function.js';
import { loadModel, modelNames } from './models/index.js';

export class SimulatorPlatform implements Platform {
  readonly name = 'simulator';
  readonly schemes = ['sim'] as const;
  readonly isFallback = true;
  readonly #open = new Set<SimPciFunction>();
  /** Operations of cards already closed, by model. */
  readonly #closedOperations = new Map<string, number>();
  #opened = 0;

  defaultSpecs(): readonly string[] {
    return ['sim:ring', 'sim:window'];
  }

  /** The cards the simulator can make, with their default options (nothing is opened). */
  async enumerate(signal?: AbortSignal): Promise<readonly PciFunctionInfo[]> {
    const infos: PciFunctionInfo[] = [];
    for (const name of modelNames) {
      signal?.throwIfAborted();
      try {
        const definition = await loadModel(name);
        infos.push({ ...definition.layout({}).identity, address: `sim:${name}` });
      } catch {
        // A model not built yet is simply not there.
      }
    }
    return infos;
  }

  async open(spec: DeviceSpec, signal?: AbortSignal): Promise<SimPciFunction> {
    signal?.throwIfAborted();
    const name = spec.target;
    const definition = await loadModel(name);
    const address = `sim:${name}#${this.#opened++}`;
    const fn = await SimPciFunction.open(definition, spec.options, address, () => {
      this.#open.delete(fn);
      this.#closedOperations.set(name, (this.#closedOperations.get(name) ?? 0) + fn.sim.operations);
    });
    this.#open.add(fn);
    return fn;
  }

  /** Operations every card of `model` has started, open or closed (tests prove the card path with it). */
  operationCount(model: string): number {
    let total = this.#closedOperations.get(model) ?? 0;
    for (const fn of this.#open) if (fn.sim.model === model) total += fn.sim.operations;
    return total;
  }

  /** Cards open now (tests reach the DMA arena and the removal switch through `sim`). */
  get openFunctions(): readonly SimPciFunction[] {
    return [...this.#open];
  }
}

/** The platform the package entry registers. */
export const simulatorPlatform = new SimulatorPlatform();
