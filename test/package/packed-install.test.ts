/**
 * Issue 12: the package as a user gets it. Packs the project (test/package/pack.ts),
 * installs the tarball with `npm install <tarball>` into an empty temporary project
 * (registry dependencies come from the registry or npm's cache), and there runs the
 * CLI, an ESM script and a TypeScript check; then installs it again with the
 * compilers hidden from PATH.
 *
 * Takes a few minutes (one `tsc` build, one addon compile, three installs), so it runs
 * when PKACCEL_PACKED_INSTALL=1 (.ci/run sets it); otherwise it is skipped with that note.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerTsconfig } from '../support/consumer-tsconfig.js';
import { type Packed, packProject, packSource } from './pack.js';

const enabled = process.env.PKACCEL_PACKED_INSTALL === '1';
const MINUTES = 60_000;

/** The environment of a user's shell: none of the npm_* variables of the `npm test` running us. */
function userEnv(path = process.env.PATH ?? ''): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!/^npm_/i.test(key) && key !== 'INIT_CWD' && !key.startsWith('VITEST') && key !== 'NODE_OPTIONS')
      env[key] = value;
  env.PATH = path;
  env.NO_COLOR = '1';
  env.npm_config_audit = 'false';
  env.npm_config_fund = 'false';
  env.npm_config_update_notifier = 'false';
  delete env.PKACCEL_DEVICES;
  delete env.PCIE_MMIO_REQUIRE_ADDON;
  delete env.PCIE_MMIO_FORCE_REBUILD;
  return env;
}

function run(command: string, args: string[], cwd: string, env = userEnv()): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 8 * MINUTES,
  });
}

function transcript(r: SpawnSyncReturns<string>): string {
  return `exit ${r.status} signal ${r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

function emptyProject(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2)}\n`,
  );
}

const SIGN_SCRIPT = `import { createPublicKey, verify } from 'node:crypto';
import { openAccelerator } from 'pkaccel';
const devices = (process.argv[2] ?? 'auto').split(',');
const accel = await openAccelerator({ devices });
const { subtle } = accel;
const keys = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
const data = new TextEncoder().encode('packed install');
const signature = new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, data));
const spki = Buffer.from(await subtle.exportKey('spki', keys.publicKey));
const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
const verifiedByNode = verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
const opened = accel.devices.map((d) => d.id);
await accel.close();
console.log(JSON.stringify({ devices: opened, verifiedByNode, closed: true }));
`;

// The consumer project is CommonJS (no "type"): as `npm init -y` makes it.
const CJS_SCRIPT = `const { openAccelerator } = require('pkaccel');
openAccelerator({ devices: ['software'] }).then(async (accel) => {
  const keys = await accel.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const signature = await accel.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, new Uint8Array([1]));
  await accel.close();
  console.log('cjs signed', signature.byteLength);
});
`;

const CRYPTO_CHECK = `import type { webcrypto } from 'node:crypto';
import { openAccelerator } from 'pkaccel';

export async function main(): Promise<void> {
  const accel = await openAccelerator({ devices: ['software'] });
  const dom: Crypto = accel.crypto; // the DOM's Crypto, as x509/pkijs/jose take it
  const node: webcrypto.Crypto = accel.crypto; // node's webcrypto.Crypto
  const keys = await dom.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const signature: ArrayBuffer = await dom.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    keys.privateKey,
    new Uint8Array([1, 2, 3]),
  );
  console.log(signature.byteLength, typeof node.getRandomValues);
  await accel.close();
}
`;

const TSCONFIG = consumerTsconfig(['check.ts'], { skipLibCheck: false });

/** Prints what the addon status of the installed copy says (run inside a consumer). */
const STATUS_SCRIPT = `const { addonStatus } = await import(process.argv[2]);
const s = addonStatus();
console.log(JSON.stringify({ loaded: s.loaded, built: s.built, reason: s.reason ?? null, missingTools: s.missingTools }));
`;

function addonStatusIn(project: string, env?: NodeJS.ProcessEnv) {
  const entry = join(project, 'node_modules', 'pkaccel', 'node_modules', 'pcie-mmio', 'dist', 'index.js');
  writeFileSync(join(project, 'status.mjs'), STATUS_SCRIPT);
  const r = run(process.execPath, ['status.mjs', entry], project, env);
  expect(r.status, transcript(r)).toBe(0);
  return JSON.parse(r.stdout) as {
    loaded: boolean;
    built: boolean;
    reason: string | null;
    missingTools: string[];
  };
}

describe.runIf(enabled).sequential('the packed tarball, installed into an empty project', () => {
  let root: string;
  let packed: Packed;
  const withTools = () => join(root, 'with-tools');
  /** `npx pkaccel <args>` in the project with tools; it must exit 0. */
  const pkaccel = (...args: string[]) => {
    const r = run('npx', ['--no-install', 'pkaccel', ...args], withTools());
    expect(r.status, transcript(r)).toBe(0);
    return r;
  };
  const noTools = () => join(root, 'no-compilers');

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pkaccel-packed-'));
    packed = packProject(root);
  }, 10 * MINUTES);

  afterAll(() => {
    if (root !== undefined && process.env.PKACCEL_KEEP_PACKED !== '1')
      rmSync(root, { recursive: true, force: true });
  });

  it('ships compiled JavaScript, types, vectors, docs/hardware, LICENSE and the bundled native package', () => {
    const files = new Set(packed.files);
    for (const needed of [
      'package.json',
      'index.cjs',
      'LICENSE',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'vectors/kat.json',
      'docs/hardware/ring-card.md',
      'node_modules/pcie-mmio/package.json',
      'node_modules/pcie-mmio/binding.gyp',
      'node_modules/pcie-mmio/src/region.cc',
      'node_modules/pcie-mmio/scripts/build.mjs',
      'node_modules/pcie-mmio/dist/index.js',
      'node_modules/pcie-mmio/dist/index.d.ts',
      'node_modules/node-addon-api/napi.h',
    ])
      expect(files.has(needed), `${needed} in the tarball (source: ${JSON.stringify(packSource())})`).toBe(
        true,
      );
    const unwanted = packed.files.filter(
      (f) =>
        f.endsWith('.map') ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts')) ||
        f.startsWith('docs/api/') ||
        f.startsWith('dist/test/') ||
        f.startsWith('dist/bench/') ||
        f.includes('/build/') ||
        f.endsWith('tsconfig.json'),
    );
    expect(unwanted).toEqual([]);
    const license = readFileSync(join(root, 'source', 'LICENSE'), 'utf8');
    expect(license).toContain('Apache License');
    expect(license).toContain('Version 2.0, January 2004');
  });

  it(
    'installs by itself with npm install <tarball>, building the addon',
    () => {
      emptyProject(withTools());
      const r = run('npm', ['install', packed.tarball, '--prefer-offline'], withTools());
      expect(r.status, transcript(r)).toBe(0);
      const status = addonStatusIn(withTools());
      expect(status, JSON.stringify(status)).toMatchObject({ loaded: true, built: true, missingTools: [] });
    },
    10 * MINUTES,
  );

  it(
    'runs `npx pkaccel selftest`',
    () => {
      expect(pkaccel('selftest').stdout).toMatch(/pass/);
    },
    5 * MINUTES,
  );

  it(
    'finds the simulated card families in its own dist/ (no list names them) and opens one',
    () => {
      expect(pkaccel('--help').stdout).toMatch(
        /^Simulated cards: sim:ring \(ring\) \*, sim:window \(window\) \*, sim:virtio \(virtio-crypto\)$/m,
      );
      const report = JSON.parse(pkaccel('devices', '--json', '--devices', 'sim:virtio').stdout) as {
        devices: { driver: string; state: string }[];
      };
      expect(report.devices.map((d) => [d.driver, d.state])).toEqual([['virtio-crypto', 'ready']]);
    },
    5 * MINUTES,
  );

  it(
    'runs `npx pkaccel devices --json`',
    () => {
      const r = pkaccel('devices', '--json');
      const report = JSON.parse(r.stdout) as { devices?: unknown[] };
      expect(Array.isArray(report.devices), r.stdout).toBe(true);
    },
    5 * MINUTES,
  );

  it(
    'signs from an ESM script with `auto`, checked by node:crypto, and the line after close() runs',
    () => {
      writeFileSync(join(withTools(), 'sign.mjs'), SIGN_SCRIPT);
      const r = run(process.execPath, ['sign.mjs', 'auto'], withTools());
      expect(r.status, transcript(r)).toBe(0);
      const result = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
        devices: string[];
        verifiedByNode: boolean;
        closed: boolean;
      };
      expect(result.verifiedByNode).toBe(true);
      expect(result.closed).toBe(true);
      expect(result.devices).toContain('software');
    },
    5 * MINUTES,
  );

  it(
    'loads with require() from a CommonJS project (index.cjs), or says to use import()',
    () => {
      writeFileSync(join(withTools(), 'sign.cjs'), CJS_SCRIPT);
      const r = run(process.execPath, ['sign.cjs'], withTools());
      if (process.features.require_module) {
        expect(r.status, transcript(r)).toBe(0);
        expect(r.stdout).toContain('cjs signed 64');
      } else {
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain('ERR_PKACCEL_ESM_ONLY');
      }
    },
    5 * MINUTES,
  );

  it(
    'type-checks accel.crypto as Crypto with tsc --noEmit',
    () => {
      const install = run(
        'npm',
        ['install', '-D', 'typescript@~5.9.3', '@types/node@^20.19.0', '--prefer-offline'],
        withTools(),
      );
      expect(install.status, transcript(install)).toBe(0);
      writeFileSync(join(withTools(), 'check.ts'), CRYPTO_CHECK);
      writeFileSync(join(withTools(), 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
      const r = run(
        process.execPath,
        [join('node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'tsconfig.json'],
        withTools(),
      );
      expect(r.status, transcript(r)).toBe(0);
    },
    5 * MINUTES,
  );

  describe.sequential('with python3, make, g++, cc and c++ hidden from PATH', () => {
    let path: string;

    beforeAll(() => {
      // Only node, npm, npx and sh (npm runs scripts through sh): no compiler, no python, no make.
      const bin = join(root, 'bin');
      mkdirSync(bin, { recursive: true });
      const which = (tool: string) => {
        for (const dir of (process.env.PATH ?? '').split(delimiter)) {
          const candidate = join(dir, tool);
          if (dir !== '' && existsSync(candidate)) return realpathSync(candidate);
        }
        throw new Error(`${tool} not on PATH`);
      };
      symlinkSync(process.execPath, join(bin, 'node'));
      for (const tool of ['npm', 'npx', 'sh']) symlinkSync(which(tool), join(bin, tool));
      path = bin;
      emptyProject(noTools());
    });

    it(
      'installs, and records which tools were missing',
      () => {
        const env = userEnv(path);
        for (const tool of ['python3', 'make', 'g++', 'cc', 'c++'])
          expect(
            run(
              process.execPath,
              ['-e', `process.exit(require('node:child_process').spawnSync('${tool}').error ? 0 : 1)`],
              root,
              env,
            ).status,
            `${tool} hidden`,
          ).toBe(0);
        const r = run('npm', ['install', packed.tarball, '--prefer-offline'], noTools(), env);
        expect(r.status, transcript(r)).toBe(0);
        const status = addonStatusIn(noTools(), env);
        expect(status.loaded).toBe(false);
        expect(status.built).toBe(false);
        expect(status.missingTools).toEqual(expect.arrayContaining(['python3', 'make', 'g++']));
        expect(status.reason).toMatch(/python3/);
        expect(status.reason).toMatch(/npm rebuild/);
      },
      10 * MINUTES,
    );

    it(
      'signs on `software`',
      () => {
        writeFileSync(join(noTools(), 'sign.mjs'), SIGN_SCRIPT);
        const r = run(process.execPath, ['sign.mjs', 'software'], noTools(), userEnv(path));
        expect(r.status, transcript(r)).toBe(0);
        const result = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
          devices: string[];
          verifiedByNode: boolean;
        };
        expect(result).toMatchObject({ devices: ['software'], verifiedByNode: true });
      },
      5 * MINUTES,
    );

    it(
      'the first openAccelerator with a pci: spec says the addon was not built and which tools were missing',
      () => {
        writeFileSync(
          join(noTools(), 'pci.mjs'),
          `import { openAccelerator } from 'pkaccel';
try {
  const accel = await openAccelerator({ devices: ['pci:0000:00:00.0'] });
  await accel.close();
  console.log(JSON.stringify({ opened: true }));
} catch (error) {
  console.log(JSON.stringify({ opened: false, message: String(error?.message ?? error) }));
}
`,
        );
        const r = run(process.execPath, ['pci.mjs'], noTools(), userEnv(path));
        expect(r.status, transcript(r)).toBe(0);
        const result = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
          opened: boolean;
          message?: string;
        };
        expect(result.opened).toBe(false);
        expect(result.message).toMatch(/not built/);
        expect(result.message).toMatch(/python3/);
      },
      5 * MINUTES,
    );

    it(
      '`pkaccel devices --json` says the addon was not built and names the missing tools',
      () => {
        const r = run(
          'npx',
          ['--no-install', 'pkaccel', 'devices', '--json', '--devices', 'software'],
          noTools(),
          userEnv(path),
        );
        expect(r.status, transcript(r)).toBe(0);
        expect(r.stdout).toMatch(/not built/);
        expect(r.stdout).toMatch(/python3/);
      },
      5 * MINUTES,
    );
  });
});

describe.skipIf(enabled)('the packed tarball', () => {
  it('is checked when PKACCEL_PACKED_INSTALL=1 (set by .ci/run): packs, installs and runs the package', (ctx) => {
    ctx.skip('set PKACCEL_PACKED_INSTALL=1 to pack and install the project (a few minutes; .ci/run does)');
  });
});
