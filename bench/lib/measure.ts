/** Throughput measurement helpers shared by benches. */

/**
 * Operations per second of `op` with `concurrency` calls in flight: that many
 * loops, each awaiting one call at a time, for `ms` milliseconds (after a warm-up
 * of `warmupMs`).
 */
export async function opsPerSecond(
  op: () => Promise<unknown>,
  concurrency: number,
  ms: number,
  warmupMs = Math.min(200, ms / 4),
): Promise<number> {
  const run = async (windowMs: number): Promise<number> => {
    const deadline = performance.now() + windowMs;
    let count = 0;
    const loop = async () => {
      while (performance.now() < deadline) {
        await op();
        count++;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, loop));
    return count / ((performance.now() - started) / 1000);
  };
  await run(warmupMs);
  return run(ms);
}
