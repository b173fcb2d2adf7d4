/**
 * Boots the guest under qemu-system-x86_64 (TCG, no KVM on CI machines) with
 * QEMU's virtio-crypto device, under `timeout`, and returns the console log.
 */

import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

export interface BootOptions {
  readonly kernel: string;
  readonly initramfs: string;
  /** 'uio' boots without an IOMMU; 'vfio' adds the emulated Intel IOMMU; 'keyring' (issue 16) is a uio-like boot. */
  readonly mode: 'uio' | 'vfio' | 'keyring';
  readonly timeoutSeconds: number;
  /** Each console line as it arrives (for a live view). */
  readonly onLine?: (line: string) => void;
}

export interface BootResult {
  readonly console: string;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly seconds: number;
}

export function qemuArgs(options: BootOptions): string[] {
  const vfio = options.mode === 'vfio';
  // no_timer_check: on a loaded host, TCG ticks late enough for the kernel's IO-APIC timer check to fail
  // ("IO-APIC + timer doesn't work!", a panic at 0.04 s; seen in a keyring boot at load average 18).
  const append = ['console=ttyS0', 'loglevel=4', 'panic=-1', 'no_timer_check', `e2e.mode=${options.mode}`];
  if (vfio) append.push('intel_iommu=on', 'iommu=pt');
  return [
    '-M',
    'q35',
    '-accel',
    'tcg,thread=multi',
    '-cpu',
    'max',
    '-m',
    '2G',
    '-smp',
    '2',
    '-nographic',
    '-no-reboot',
    '-nic',
    'none',
    ...(vfio ? ['-device', 'intel-iommu,intremap=off'] : []),
    '-kernel',
    options.kernel,
    '-initrd',
    options.initramfs,
    '-append',
    append.join(' '),
    '-object',
    'cryptodev-backend-builtin,id=c0',
    '-device',
    // Under the IOMMU the device must translate its DMA (VIRTIO_F_ACCESS_PLATFORM),
    // or it would read guest-physical addresses where the driver gave it IOVAs.
    `virtio-crypto-pci,id=crypto0,cryptodev=c0${vfio ? ',iommu_platform=on' : ''}`,
  ];
}

export function boot(options: BootOptions): Promise<BootResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      'timeout',
      ['--kill-after=5', String(options.timeoutSeconds), 'qemu-system-x86_64', ...qemuArgs(options)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    let pending = '';
    // One decoder per stream: a UTF-8 character split between two chunks is not two replacement characters.
    const decoders = { out: new StringDecoder('utf8'), err: new StringDecoder('utf8') };
    const take = (chunk: Buffer, decoder: StringDecoder): void => {
      const text = decoder.write(chunk);
      log += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) options.onLine?.(line.replace(/\r$/, ''));
    };
    child.stdout.on('data', (chunk: Buffer) => take(chunk, decoders.out));
    child.stderr.on('data', (chunk: Buffer) => take(chunk, decoders.err));
    child.on('error', reject);
    child.on('close', (code) => {
      if (pending !== '') options.onLine?.(pending);
      resolve({
        console: log,
        exitCode: code,
        timedOut: code === 124 || code === 137,
        seconds: (performance.now() - started) / 1000,
      });
    });
  });
}
