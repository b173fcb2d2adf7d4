/**
 * The layer rules of ../shared/DESIGN.md, enforced on every `npm test`.
 * Arrows point down only: core knows no device; a hardware driver sees only the
 * core/driver and core/platform contracts; only the package entry (index.ts,
 * the composition root) and the CLI built on it import the driver list and the platforms.
 *
 * Ground floor: core/encoding/ holds facts and encodings (hash names, lengths and
 * DigestInfo prefixes, EMSA-PKCS1-v1_5, EMSA-PSS, MGF1, byte helpers; digest.ts is
 * the one module there that calls node:crypto, for hashing and randomness). Facts and
 * encodings are ground floor, policy is not: core, every driver (hardware drivers
 * too) and the simulator may import core/encoding/, and core/encoding itself imports
 * only node builtins and core/driver/errors (nothing above it). Key policy, algorithm
 * choice and composition stay in core/algorithms, out of the drivers' reach.
 */
module.exports = {
  forbidden: [
    {
      name: 'encoding-is-ground-floor',
      severity: 'error',
      comment: 'core/encoding imports only node builtins, itself and core/driver/errors (the typed errors)',
      from: { path: '^core/encoding/' },
      to: { dependencyTypesNot: ['core'], pathNot: ['^core/encoding/', '^core/driver/errors\\.ts$'] },
    },
    {
      name: 'integrity-gate-below-queue-and-algorithms',
      severity: 'error',
      comment:
        'core/integrity (the gate the job queue runs on every result) imports only core/driver, core/encoding, core/math, itself and node builtins',
      from: { path: '^core/integrity/' },
      to: {
        dependencyTypesNot: ['core'],
        pathNot: ['^core/integrity/', '^core/driver/', '^core/encoding/', '^core/math/'],
      },
    },
    {
      name: 'core-imports-no-device',
      severity: 'error',
      comment:
        'core must not import a driver, the simulator, native/ (pcie-mmio) or the composition root; core/platform re-exports the types of pcie-mmio/contracts (the one definition of the platform contracts), types only',
      from: { path: '^core/' },
      to: {
        path: '^(drivers/|simulator/|native/|cli/|index\\.ts)|node_modules/pcie-mmio',
        pathNot: '^native/dist/contracts\\.d\\.ts$',
      },
    },
    {
      name: 'core-takes-only-contract-types-from-pcie-mmio',
      severity: 'error',
      comment:
        'core (core/platform re-exports them) may import pcie-mmio/contracts for types only: no code of pcie-mmio runs in core',
      from: { path: '^core/' },
      to: { path: '^native/dist/contracts\\.d\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'hardware-driver-imports-only-contracts',
      severity: 'error',
      comment:
        'a hardware driver imports only core/driver, core/platform, core/encoding (ground floor), core/math (plain bigint arithmetic, no I/O) and its own folder; no node:crypto, no simulator. The keyring driver also takes the keyctl ABI numbers and shapes from pcie-mmio/keyctl (constants and types only, no native code), so they are written once',
      from: { path: '^drivers/(?!software/|broker/)([^/]+)/' },
      to: {
        pathNot: [
          '^core/driver/',
          '^core/platform/',
          '^core/encoding/',
          '^core/math/',
          '^drivers/$1/',
          '^native/(dist|lib)/keyctl-abi\\.(d\\.ts|js|ts)$',
        ],
      },
    },
    {
      name: 'hardware-driver-no-node-builtins',
      severity: 'error',
      comment: 'hardware drivers speak their card through the platform contracts only',
      from: { path: '^drivers/(?!software/|broker/)' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'broker-driver-imports-contracts-and-node-only',
      severity: 'error',
      comment:
        'the broker: client driver speaks frames over node:net: the contracts, core/encoding and its own folder (server/ may import its protocol codec)',
      from: { path: '^drivers/broker/' },
      to: {
        path: '^(core/(?!driver/|platform/|encoding/)|simulator/|native/|drivers/(?!broker/)|server/|cli/|index\\.ts)',
      },
    },
    {
      name: 'software-driver-imports-contracts-and-node-only',
      severity: 'error',
      from: { path: '^drivers/software/' },
      comment:
        'the software provider uses node:crypto, the contracts, core/encoding (ground floor) and core/math (plain arithmetic) only',
      to: { path: '^(core/(?!driver/|platform/|math/|encoding/)|simulator/|native/|drivers/(?!software/))' },
    },
    {
      name: 'simulator-is-a-platform',
      severity: 'error',
      comment:
        'the simulator implements core/platform and knows no driver and no core layer above the contracts and the ground floor (core/encoding)',
      from: { path: '^simulator/' },
      to: { path: '^(drivers/|native/|cli/|index\\.ts|core/(?!driver/|platform/|math/|encoding/))' },
    },
    {
      name: 'only-the-composition-root-imports-drivers-and-platforms',
      severity: 'error',
      from: { pathNot: '^(index\\.ts|drivers/|simulator/|cli/|server/|test/|bench/|selftest\\.ts)' },
      to: { path: '^(drivers/|simulator/)|node_modules/pcie-mmio' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    exclude: { path: '(^dist/|\\.test\\.ts$)' },
  },
};
