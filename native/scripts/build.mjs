// The package's install step: build the addon with node-gyp. Runs during `npm ci` /
// `npm install` (also when pcie-mmio is installed bundled inside the pkaccel tarball);
// needs no network where the local Node headers are present (npm's `nodedir`, or
// <node prefix>/include/node). It never runs the TypeScript compiler: dist/ ships
// compiled (the repository's `npm run build` / `prepack` makes it).
//
// If the addon cannot be built, the reason (and which of python3, make, g++ is
// missing) goes to build/BUILD_FAILED.json and the install still succeeds, so that
// the rest of pkaccel (software provider, simulator) installs; addonStatus() reports
// it, and the first call that needs the addon throws that reason, naming the tool.
// Set PCIE_MMIO_REQUIRE_ADDON=1 to make a failed build fail the install instead.
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const record = join(root, 'build', 'BUILD_FAILED.json');

function onPath(tool) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function run(command, args) {
  console.log(`pcie-mmio: ${[command, ...args].join(' ')}`);
  return spawnSync(command, args, { cwd: root, stdio: 'inherit', env: process.env }).status === 0;
}

function nodeGyp() {
  // npm tells its scripts where its own node-gyp is
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    // npm ships node-gyp beside itself
    const bundled = join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    );
    return existsSync(bundled) ? bundled : undefined;
  }
}

// pcie_mmio.node (PCI: map, read, write, pin, wait) and pkaccel_system.node (peer
// credentials, prctl, keyctl for the broker and keyring devices) build together.
const addonFiles = ['pcie_mmio.node', 'pkaccel_system.node'].map((f) => join(root, 'build', 'Release', f));
const stamp = join(root, 'build', 'BUILT_FOR.json');
const builtFor = { node: process.version, modules: process.versions.modules, arch: process.arch };

// Every `npm install` in the repository re-runs this script: rebuilding (and so
// deleting) an addon that is already current would break whoever uses it meanwhile.
function upToDate() {
  if (process.env.PCIE_MMIO_FORCE_REBUILD === '1' || !addonFiles.every(existsSync) || !existsSync(stamp))
    return false;
  try {
    if (JSON.stringify(JSON.parse(readFileSync(stamp, 'utf8'))) !== JSON.stringify(builtFor)) return false;
  } catch {
    return false;
  }
  const built = Math.min(...addonFiles.map((f) => statSync(f).mtimeMs));
  const sources = [
    join(root, 'binding.gyp'),
    ...readdirSync(join(root, 'src')).map((f) => join(root, 'src', f)),
  ];
  return sources.every((f) => statSync(f).mtimeMs <= built);
}

function buildAddon() {
  if (upToDate()) {
    console.log('pcie-mmio: addon is up to date');
    return undefined;
  }
  rmSync(record, { force: true });
  const missing = ['python3', 'make', 'g++'].filter((tool) => !onPath(tool));
  const gyp = nodeGyp();
  if (gyp === undefined) missing.push('node-gyp');
  if (missing.length > 0) return { missing, reason: `missing build tools: ${missing.join(', ')}` };
  const args = [gyp, 'rebuild'];
  const localHeaders = join(dirname(process.execPath), '..', 'include', 'node', 'common.gypi');
  if (!process.env.npm_config_nodedir && existsSync(localHeaders))
    args.push(`--nodedir=${join(dirname(process.execPath), '..')}`);
  if (!run(process.execPath, args))
    return { missing: [], reason: 'node-gyp rebuild failed (see the log above)' };
  writeFileSync(stamp, `${JSON.stringify(builtFor)}\n`);
  return undefined;
}

const failure = buildAddon();
if (failure) {
  mkdirSync(dirname(record), { recursive: true });
  writeFileSync(
    record,
    `${JSON.stringify({ ...failure, node: process.version, at: new Date().toISOString() }, null, 2)}\n`,
  );
  console.error(
    `pcie-mmio: WARNING: the native addon was not built: ${failure.reason}. ` +
      'The pci: platform (real cards) is unavailable; the software device and the simulator work. ' +
      'Install the tools and run `npm rebuild pcie-mmio` (inside an installed pkaccel: `npm rebuild pkaccel`).',
  );
  if (process.env.PCIE_MMIO_REQUIRE_ADDON === '1') process.exit(1);
}
