/**
 * The simulated platform: implements core/platform over device models, for the
 * spec scheme "sim" (`sim:<model>?k=v&…`). It is the fallback platform: tools
 * that find no card open the families whose declaration says `offeredByDefault`
 * (each declares itself in its folder; simulator/models/index.ts finds the folders).
 */

import { type ProbeOptionSchema, parseProbeOptions } from '../core/driver/probe-options.js';
import type { DeviceSpec, PciFunctionInfo, Platform } from '../core/platform/pci.js';
import { SimPciFunction } from './function.js';
import { BUILT_IN_MODELS, type FoundFamily, familyNamed, findFamilies, loadModel } from './models/index.js';

/**
 * The options every simulated card takes, whatever its family (read by the
 * simulator's runner, engines and fault schedule, which check the values).
 */
export const SIMULATOR_OPTIONS = {
  mode: {
    kind: 'string',
    default: 'worker',
    doc: 'worker (the model runs on a worker thread) or inline (on the calling thread)',
  },
  engine: {
    kind: 'string',
    default: 'real',
    doc: 'real (does the math), null (completes at once) or timed (modeled service time)',
  },
  service: { kind: 'string', doc: 'ms per operation on one engine (timed; real: computed, then held to it)' },
  rate: {
    kind: 'string',
    doc: "the card's operations per second, instead of service (timed; real: computed, then held to it)",
  },
  faults: { kind: 'string', doc: 'fault rules: <name>:<probability> or <name>@<n>, comma-separated' },
  seed: {
    kind: 'string',
    default: '1',
    doc: 'seed of every random fault choice (a run replays by its seed)',
  },
  delayms: { kind: 'string', doc: 'extra latency of a delay fault, ms' },
  reinsert: { kind: 'string', doc: 'a removed card comes back after this many ms' },
} as const satisfies ProbeOptionSchema;

/** One card the simulator can make, for help texts and listings (nothing is opened). */
export interface SimulatedModel {
  readonly name: string;
  /** The spec that opens it: `sim:<name>`. */
  readonly spec: string;
  readonly description: string;
  /** Whether tools open it when no card is found. */
  readonly offeredByDefault: boolean;
  /** The card's own options (absent: not declared); the simulator's are in {@link SIMULATOR_OPTIONS}. */
  readonly options?: ProbeOptionSchema;
}

/** Where a SimulatorPlatform finds its card families. */
export interface SimulatorPlatformOptions {
  /**
   * Folders of family folders (`<folder>/<family>/family.ts|js`), searched in
   * order; default: the built-in ones (simulator/models/). A test or a
   * third-party package adds its own folder beside them.
   */
  readonly modelFolders?: readonly URL[];
}

export class SimulatorPlatform implements Platform {
  readonly name = 'simulator';
  readonly schemes = ['sim'] as const;
  readonly isFallback = true;
  readonly #open = new Set<SimPciFunction>();
  /** Operations of cards already closed, by model. */
  readonly #closedOperations = new Map<string, number>();
  readonly #folders: readonly URL[];
  #families: Promise<readonly FoundFamily[]> | undefined;
  #opened = 0;

  constructor(options: SimulatorPlatformOptions = {}) {
    this.#folders = options.modelFolders ?? [BUILT_IN_MODELS];
  }

  /** The families of this platform's folders (found once). */
  families(): Promise<readonly FoundFamily[]> {
    this.#families ??= findFamilies(this.#folders);
    return this.#families;
  }

  /** The families declared `offeredByDefault`, as specs. */
  async defaultSpecs(): Promise<readonly string[]> {
    return (await this.families()).filter((f) => f.offeredByDefault).map((f) => `sim:${f.name}`);
  }

  /** Every card family the simulator can make, with its options (from the declarations; no model is loaded). */
  async models(): Promise<readonly SimulatedModel[]> {
    return (await this.families()).map((f) => ({
      name: f.name,
      spec: `sim:${f.name}`,
      description: f.description,
      offeredByDefault: f.offeredByDefault,
      ...(f.options === undefined ? {} : { options: f.options }),
    }));
  }

  /** The cards the simulator can make, with their default options (nothing is opened). */
  async enumerate(signal?: AbortSignal): Promise<readonly PciFunctionInfo[]> {
    const infos: PciFunctionInfo[] = [];
    for (const { name, modelUrl } of await this.families()) {
      signal?.throwIfAborted();
      try {
        const definition = await loadModel(name, modelUrl);
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
    const family = familyNamed(await this.families(), name);
    if (family.options !== undefined) {
      // Records the simulator's and the card's option names when the registry tracks the spec's
      // options (the driver reads the rest); refuses unknown names when called with plain options.
      parseProbeOptions(spec.options, { ...SIMULATOR_OPTIONS, ...family.options }, `simulated ${name} card`);
    }
    const definition = await loadModel(name, family.modelUrl);
    const address = `sim:${name}#${this.#opened++}`;
    const fn = await SimPciFunction.open(definition, family.modelUrl, spec.options, address, () => {
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
