/**
 * Run by irq.test.ts in a child process: opens interrupts, waits on one, closes it,
 * and leaves another open but idle. It must then exit by itself (no handle keeps
 * the event loop alive) and without a crash at teardown.
 */
import { writeSync } from 'node:fs';
import { createEventFd, FdIrq } from '../lib/index.js';

const fd = createEventFd();
const irq = new FdIrq({ vector: 0, fd, kind: 'eventfd', ownsFd: false });
const waiting = irq.wait();
const b = Buffer.alloc(8);
b.writeBigUInt64LE(1n);
writeSync(fd, b);
const n = await waiting;
irq.close();
const idle = new FdIrq({ vector: 1, fd: createEventFd(), kind: 'eventfd' });
void idle;
console.log(`irq-child: waited ${n}, closed, leaving one idle irq open`);
