/**
 * The model registry: which device models `sim:<name>` can open. A model is a
 * module in this folder default-exporting a ModelDefinition; it is loaded by URL
 * on whichever thread runs it (the worker, or the caller's in inline mode).
 * Adding a model is one line here.
 */

import { InvalidInputError } from '../../core/driver/errors.js';
import type { ModelDefinition } from '../model.js';

/** Model name → module file (without extension) in this folder. */
const MODEL_FILES: Readonly<Record<string, string>> = {
  ring: 'ring/model',
  window: 'window',
  virtio: 'virtio',
};

export const modelNames: readonly string[] = Object.keys(MODEL_FILES);

/** Built output runs .js files; vitest and tsx run the .ts sources. */
const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

export function modelUrl(name: string): URL {
  const file = Object.hasOwn(MODEL_FILES, name) ? MODEL_FILES[name] : undefined;
  if (file === undefined) {
    throw new InvalidInputError(
      `no simulated device model "${name}"; known models: ${modelNames.join(', ')}`,
    );
  }
  return new URL(`./${file}${extension}`, import.meta.url);
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
  if (!isModelDefinition(module.default)) {
    throw new TypeError(`${url.pathname} does not default-export a ModelDefinition`);
  }
  return module.default;
}
