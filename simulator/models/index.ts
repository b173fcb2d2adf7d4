/**
 * The one list of simulated card families: which device models `sim:<name>` can
 * open. Each family declares itself in its own folder (`<family>/family.ts`: name,
 * offered by default or not, options, model module; see ./family.ts); adding a
 * family is one line in MODEL_FAMILIES. A model module is loaded by URL on
 * whichever thread runs it (the worker, or the caller's in inline mode).
 */

import { InvalidInputError } from '../../core/driver/errors.js';
import type { ModelDefinition } from '../model.js';
import type { ModelFamily } from './family.js';
import { ringFamily } from './ring/family.js';
import { virtioFamily } from './virtio/family.js';
import { windowFamily } from './window/family.js';

/** Every family, in listing order. */
export const MODEL_FAMILIES: readonly ModelFamily[] = [ringFamily, windowFamily, virtioFamily];

export const modelNames: readonly string[] = MODEL_FAMILIES.map((f) => f.name);

/** The family `sim:<name>` names; an InvalidInputError listing the known ones if none. */
export function modelFamily(name: string): ModelFamily {
  const family = MODEL_FAMILIES.find((f) => f.name === name);
  if (family === undefined) {
    throw new InvalidInputError(
      `no simulated device model "${name}"; known models: ${modelNames.join(', ')}`,
    );
  }
  return family;
}

/** Built output runs .js files; vitest and tsx run the .ts sources. */
const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

export function modelUrl(name: string): URL {
  return new URL(`./${modelFamily(name).module}${extension}`, import.meta.url);
}

function isModelDefinition(value: unknown): value is ModelDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.name === 'string' && typeof v.layout === 'function' && typeof v.create === 'function';
}

export async function loadModel(name: string): Promise<ModelDefinition> {
  const url = modelUrl(name);
  let module: { default?: unknown };
  try {
    module = (await import(url.href)) as { default?: unknown };
  } catch (error) {
    throw new TypeError(`simulated device model "${name}" could not be loaded from ${url.pathname}`, {
      cause: error,
    });
  }
  if (!isModelDefinition(module.default) || module.default.name !== name) {
    throw new TypeError(`${url.pathname} does not default-export the ModelDefinition of "${name}"`);
  }
  return module.default;
}
