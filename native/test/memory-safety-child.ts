/**
 * Run by memory-safety.test.ts in a child process (a crash must fail that test, not
 * the runner). One scenario per run, named by argv[2]; prints `ok <scenario>` and
 * exits 0 when every check held, throws (exit 1) otherwise. Needs --expose-gc.
 */
import { ftruncateSync, openSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapFile, memfdDmaAllocator, PooledDmaBuffer } from '../lib/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`check failed: ${what}`);
}

/** Collect garbage until `done()` (bounded): finalisers run between turns of the event loop. */
async function collectUntil(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (done()) return;
  }
  throw new Error(`gave up waiting for: ${what}`);
}

/** A finaliser we can watch, to know that a collection did run (the registry must stay reachable). */
const canaries = new FinalizationRegistry<{ collected: boolean }>((state) => {
  state.collected = true;
});
function canary(): () => boolean {
  const state = { collected: false };
  canaries.register({}, state);
  return () => state.collected;
}

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  }
  return undefined;
}

const scenarios: Record<string, () => Promise<void> | void> = {
  // The reproduction: the buffer object is collected, its view is not.
  async 'dma-view-outlives-buffer'() {
    const dma = memfdDmaAllocator();
    // Only sync helpers touch the objects, so no register of this async function keeps them.
    const holder: { view?: Uint8Array } = {};
    const bus = ((): bigint => {
      const buffer = dma.allocate(64);
      holder.view = buffer.bytes;
      return buffer.busAddress;
    })();
    const dead = canary();
    await collectUntil(dead, 'a garbage collection with finalisers');
    // more collections and turns: a finaliser of the lost buffer object would have run by now
    for (let i = 0; i < 10; i++) {
      gc!();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    (() => {
      const later = Array.from({ length: 32 }, () => dma.allocate(64));
      check(
        later.every((b) => b.busAddress !== bus),
        'the range of a buffer whose view is reachable is not handed out again',
      );
      const view = holder.view!;
      view.fill(0x41);
      check(
        later.every((b) => b.bytes.every((x) => x === 0)),
        'a write through the old view shows up in no other buffer',
      );
      check(view.length === 64 && view[63] === 0x41, 'the old view still works on its own memory');
      for (const b of later) b.free();
    })();
    // once no view can be reached, the range is zeroed and reused
    holder.view = undefined;
    let zeroed = false;
    await collectUntil(() => {
      const b = dma.allocate(64);
      const found = b.busAddress === bus;
      if (found) zeroed = b.bytes.every((x) => x === 0);
      b.free();
      return found;
    }, 'the range to come back after its last view was dropped');
    check(zeroed, 'the recycled range comes back zeroed');
    dma.close();
  },

  'dma-free-detaches-views'() {
    const dma = memfdDmaAllocator();
    const first = dma.allocate(64);
    const bus = first.busAddress;
    const view = first.bytes;
    view.fill(0x77);
    first.free();
    check(view.length === 0 && view.byteLength === 0, 'free() empties the views taken earlier');
    const second = dma.allocate(64);
    check(second.busAddress === bus, 'the freed range is reused');
    const fill = errorCode(() => view.fill(0x41));
    check(
      fill === undefined || /detached/.test(fill),
      `fill on a detached view throws or does nothing (${fill})`,
    );
    view[0] = 0x42;
    check(
      second.bytes.every((x) => x === 0),
      'writes through a view of a freed buffer reach nothing',
    );
    check(first instanceof PooledDmaBuffer && first.fdRange === undefined, 'no fd range after free');
    dma.close();
  },

  'dma-memfd-is-sealed'() {
    const dma = memfdDmaAllocator();
    const buffer = dma.allocate(64);
    const range = (buffer as PooledDmaBuffer).fdRange;
    check(range !== undefined, 'a memfd buffer has an fd range');
    // another holder of the fd (a device model) cannot shrink the memory under our mapping
    const code = errorCode(() => ftruncateSync(range!.fd, 0));
    check(code === 'EPERM', `ftruncate of the DMA memfd is refused with EPERM (got ${code})`);
    buffer.bytes[63] = 1;
    dma.close();
  },

  'shrunk-file-register-access'() {
    const path = join(tmpdir(), `pcie-mmio-shrink-${process.pid}`);
    writeFileSync(path, Buffer.alloc(3 * 4096, 0xab));
    const window = mapFile(path);
    check(window.read32(4096) === 0xabababab, 'reads before the shrink');
    truncateSync(path, 4096);
    check(!window.broken, 'not broken before an access faults');
    check(errorCode(() => window.read32(8192)) === 'ERR_PCIE_MMIO_GONE', 'read past the new end throws');
    check(window.broken, 'broken after the fault');
    check(errorCode(() => window.read32(0)) === 'ERR_PCIE_MMIO_GONE', 'every later access throws');
    check(errorCode(() => window.write32(0, 1)) === 'ERR_PCIE_MMIO_GONE', 'writes too');
    check(
      errorCode(() => window.readBlock(0, new Uint8Array(16))) === 'ERR_PCIE_MMIO_GONE',
      'block reads too',
    );
    window.close();
    // a second mapping of the shrunk file and a write fault on a fresh one
    writeFileSync(path, Buffer.alloc(2 * 4096));
    const other = mapFile(path);
    ftruncateSync(openSync(path, 'r+'), 0);
    check(errorCode(() => other.write64(4096, 1n)) === 'ERR_PCIE_MMIO_GONE', 'a faulting write throws');
    check(
      errorCode(() => other.writeBlock(0, new Uint8Array(8))) === 'ERR_PCIE_MMIO_GONE',
      'block writes after it',
    );
    other.close();
    unlinkSync(path);
  },

  'shrunk-file-arraybuffer-view'() {
    const path = join(tmpdir(), `pcie-mmio-shrink-view-${process.pid}`);
    writeFileSync(path, Buffer.alloc(2 * 4096, 0xcd));
    const window = mapFile(path);
    const bytes = new Uint8Array(window.buffer());
    check(bytes[5000] === 0xcd, 'the view reads the file');
    truncateSync(path, 0);
    check(bytes[5000] === 0, 'a read past the new end reads zeros instead of killing the process');
    bytes[100] = 1; // a write there lands on a private page, not in the file
    check(window.broken, 'the window knows');
    window.close();
    check(bytes.length === 0, 'closing detaches the view');
    unlinkSync(path);
  },

  // A SIGBUS that is not a fault in one of our mappings keeps its default action.
  'foreign-sigbus-still-kills'() {
    process.kill(process.pid, 'SIGBUS');
    // not reached if the signal kept its default action
  },
};

const name = process.argv[2] ?? '';
const scenario = scenarios[name];
if (scenario === undefined) throw new Error(`unknown scenario ${name}: ${Object.keys(scenarios).join(', ')}`);
await scenario();
console.log(`ok ${name}`);
