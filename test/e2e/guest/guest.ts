/**
 * The guest side of the QEMU end-to-end test: runs as the guest's only program
 * (started by /init), binds the virtio-crypto function to a user-space driver,
 * and prints the result table the host harness parses.
 */

import { readFileSync } from 'node:fs';
import { Report } from './report.js';
import { bindUio, bindVfio, findFunctions, hex4 } from './sysfs.js';

const VIRTIO_VENDOR = 0x1af4;
const VIRTIO_CRYPTO_DEVICE = 0x1054;

async function main(): Promise<number> {
  const mode = process.argv[2];
  // Binding PCI functions is only ever done inside the harness's guest.
  if (!readFileSync('/proc/cmdline', 'utf8').includes(`e2e.mode=${mode}`)) {
    console.error('guest.js runs only inside the e2e QEMU guest (no e2e.mode= on the kernel command line)');
    return 2;
  }
  const report = new Report();
  const found = findFunctions(VIRTIO_VENDOR, VIRTIO_CRYPTO_DEVICE);
  const fn = found[0];
  await report.run('device present', () => {
    if (fn === undefined) throw new Error('no 1af4:1054 function in /sys/bus/pci/devices');
    return `${fn.address} ${hex4(fn.vendor)}:${hex4(fn.device)} class ${fn.classCode.toString(16)} resources [${fn.resources.join('; ')}]`;
  });
  if (fn === undefined) return report.summary();
  await report.run(`bind ${mode}`, () => (mode === 'vfio' ? bindVfio(fn) : bindUio(fn)));
  return report.summary();
}

main().then(
  (failed) => {
    process.exitCode = failed === 0 ? 0 : 1;
  },
  (error: unknown) => {
    console.error('guest script crashed:', error);
    process.exitCode = 3;
  },
);
