/**
 * Where the simulated card families are found: every folder of a models folder
 * that holds a `family.ts` (`family.js` in the built package) is a family; that
 * module default-exports its declaration (./family.ts: name, offered by default
 * or not, options, model module). No list names them: adding a family is adding
 * its folder. The built-in families are the folders beside this file; a caller
 * (a test, a third-party package) can add folders of its own to a
 * SimulatorPlatform. A model module is loaded by URL on whichever thread runs it
 * (the worker, or the caller's in inline mode).
 */

import { access, readdir } from 'node:fs/promises';
import { InvalidInputError } from '../../core/driver/errors.js';
import type { ModelDefinition } from '../model.js';
import type { ModelFamily } from './family.js';

/** The folder of the built-in families (this one). */
export const BUILT_IN_MODELS: URL = new URL('./', import.meta.url);

/** A family's declaration, with the URL its model module is loaded from. */
export interface FoundFamily extends ModelFamily {
  readonly modelUrl: URL;
}

/** Built output runs .js files; vitest and tsx run the .ts sources. Either is looked for, this one first. */
const EXTENSIONS = import.meta.url.endsWith('.ts') ? ['.ts', '.js'] : ['.js', '.ts'];

function isModelFamily(value: unknown): value is ModelFamily {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.name === 'string' &&
    typeof v.description === 'string' &&
    typeof v.offeredByDefault === 'boolean' &&
    typeof v.module === 'string'
  );
}

async function exists(url: URL): Promise<boolean> {
  try {
    await access(url);
    return true;
  } catch {
    return false;
  }
}

/** The families in one models folder, each from `<folder>/<family>/family.{ts,js}`. */
async function familiesIn(folder: URL): Promise<FoundFamily[]> {
  if (!folder.href.endsWith('/')) folder = new URL(`${folder.href}/`);
  const found: FoundFamily[] = [];
  const entries = await readdir(folder, { withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    for (const extension of EXTENSIONS) {
      const url = new URL(`${entry.name}/family${extension}`, folder);
      if (!(await exists(url))) continue;
      const declared = ((await import(url.href)) as { default?: unknown }).default;
      if (!isModelFamily(declared)) {
        throw new TypeError(`${url.pathname} does not default-export a ModelFamily declaration`);
      }
      found.push({ ...declared, modelUrl: new URL(`${declared.module}${extension}`, folder) });
      break;
    }
  }
  return found;
}

/**
 * Every family in `folders`, the ones offered by default first, then by name
 * (the order listings and `auto` use). Two families of one name are refused.
 */
export async function findFamilies(folders: readonly URL[]): Promise<readonly FoundFamily[]> {
  const all = (await Promise.all(folders.map(familiesIn))).flat();
  const names = new Set<string>();
  for (const family of all) {
    if (names.has(family.name)) throw new TypeError(`two simulated card families are named "${family.name}"`);
    names.add(family.name);
  }
  return all.sort(
    (a, b) => Number(b.offeredByDefault) - Number(a.offeredByDefault) || a.name.localeCompare(b.name),
  );
}

let builtIn: Promise<readonly FoundFamily[]> | undefined;

/** The built-in families (read once per thread). */
export function builtInFamilies(): Promise<readonly FoundFamily[]> {
  builtIn ??= findFamilies([BUILT_IN_MODELS]);
  return builtIn;
}

/** The family `sim:<name>` names among `families`; an InvalidInputError listing the known ones if none. */
export function familyNamed(families: readonly FoundFamily[], name: string): FoundFamily {
  const family = families.find((f) => f.name === name);
  if (family === undefined) {
    throw new InvalidInputError(
      `no simulated device model "${name}"; known models: ${families.map((f) => f.name).join(', ')}`,
    );
  }
  return family;
}

function isModelDefinition(value: unknown): value is ModelDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.name === 'string' && typeof v.layout === 'function' && typeof v.create === 'function';
}

/**
 * The model of the family `name`, from `url` (a found family's `modelUrl`), or,
 * without one, from the built-in family of that name.
 */
export async function loadModel(name: string, url?: URL | string): Promise<ModelDefinition> {
  const href = url === undefined ? familyNamed(await builtInFamilies(), name).modelUrl.href : String(url);
  let module: { default?: unknown };
  try {
    module = (await import(href)) as { default?: unknown };
  } catch (error) {
    throw new TypeError(`simulated device model "${name}" could not be loaded from ${href}`, {
      cause: error,
    });
  }
  if (!isModelDefinition(module.default) || module.default.name !== name) {
    throw new TypeError(`${href} does not default-export the ModelDefinition of "${name}"`);
  }
  return module.default;
}
