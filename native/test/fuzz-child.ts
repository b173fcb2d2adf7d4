/**
 * Run by fuzz.test.ts in a child process, so that a crash (SIGSEGV, SIGBUS, abort)
 * is seen as the child's death rather than taking the test runner down. Throws
 * random arguments of every kind at the whole surface: window accesses, block
 * copies, mapping, DMA allocation, interrupts, close orders. Only thrown errors of
 * the expected kinds are allowed; anything else fails the property.
 */
import { truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createEventFd, FdIrq, type MappedWindow, mapFile, memfdDmaAllocator } from '../lib/index.js';

const SIZE = 4096;
const path = join(tmpdir(), `pcie-mmio-fuzz-${process.pid}`);
writeFileSync(path, Buffer.alloc(SIZE));

const anyValue = fc.oneof(
  fc.integer({ min: -SIZE, max: 2 * SIZE }),
  fc.nat({ max: SIZE / 8 }).map((n) => n * 8), // mostly valid offsets, so accesses also succeed
  fc.double(),
  fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 2 ** 64, -(2 ** 31), 2 ** 32 - 1),
  fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }),
  fc.string({ maxLength: 3 }),
  fc.constantFrom(undefined, null, true, {}, [], Symbol.for('x')),
);

type Op = { kind: string; a: unknown; b: unknown };
const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom(
    'read8',
    'read16',
    'read32',
    'read64',
    'write8',
    'write16',
    'write32',
    'write64',
    'readBlock',
    'writeBlock',
    'barrier',
    'buffer',
    'close',
    'remap',
    'dma',
    'irq',
    'shrink',
  ),
  a: anyValue,
  b: fc.oneof(anyValue, fc.uint8Array({ maxLength: 64 })),
});

function allowed(error: unknown): boolean {
  if (error instanceof RangeError || error instanceof TypeError) return true;
  if (error instanceof Error)
    return /after close|closed twice|read-only|freed twice|after free|cannot map|exceeds|must be|mapping is gone/.test(
      error.message,
    );
  return false;
}

function apply(window: MappedWindow, o: Op, cleanups: (() => void)[]): MappedWindow {
  const w = window as unknown as Record<string, (...args: unknown[]) => unknown>;
  switch (o.kind) {
    case 'close':
      window.close();
      return window;
    case 'remap':
      return mapFile(path, { offset: o.a as number, size: o.b as number });
    case 'buffer': {
      const view = new Uint8Array(window.buffer());
      view[Number(o.a) % SIZE] = 1;
      return window;
    }
    case 'dma': {
      const dma = memfdDmaAllocator();
      cleanups.push(() => dma.close());
      const buffer = dma.allocate(o.a as number, { align: o.b as number });
      buffer.zero();
      buffer.free();
      buffer.free();
      return window;
    }
    case 'shrink': {
      // another process truncating the mapped file: accesses past the new end must
      // throw (ERR_PCIE_MMIO_GONE) or read zeros through a view, never raise SIGBUS
      // (the file is one page: only truncating to 0 leaves a mapped page with no file behind it)
      truncateSync(path, 0);
      return window;
    }
    case 'irq': {
      const irq = new FdIrq({ vector: 0, fd: createEventFd(), kind: 'eventfd' });
      void irq.wait().catch(() => {});
      irq.close();
      irq.close();
      return window;
    }
    default:
      w[o.kind]!.call(window, o.a, o.b);
      return window;
  }
}

const runs = Number(process.argv[2] ?? 300);
let succeeded = 0;
let refused = 0;
let gone = 0;
fc.assert(
  fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
    writeFileSync(path, Buffer.alloc(SIZE)); // a 'shrink' of the previous run is undone
    let window = mapFile(path);
    const windows = [window];
    const cleanups: (() => void)[] = [];
    for (const o of ops) {
      try {
        window = apply(window, o, cleanups);
        if (!windows.includes(window)) windows.push(window);
        succeeded++;
      } catch (error) {
        if (!allowed(error)) throw error;
        refused++;
        if ((error as { code?: string }).code === 'ERR_PCIE_MMIO_GONE') gone++;
      }
    }
    for (const w of windows) if (!w.closed) w.close();
    for (const c of cleanups) c();
  }),
  { numRuns: runs },
);
unlinkSync(path);
console.log(
  `fuzz-child: ${runs} runs without a crash (${succeeded} calls succeeded, ${refused} refused, ` +
    `${gone} of them on a mapping whose file shrank)`,
);
