// Preloaded into a benchmarked master (`node --expose-gc --import bench/heap-probe.mjs bin/mezz-master.mjs …`):
// on SIGUSR2 it collects garbage and prints one line on stderr,
//   mezz-heap {"heapUsed":…,"heapTotal":…,"external":…,"arrayBuffers":…,"rss":…}
// so the heap bench can read the master's heap without the master carrying
// any hidden switch of its own. Plain JavaScript: it loads before tsx does.
process.on('SIGUSR2', () => {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  const m = process.memoryUsage();
  process.stderr.write(`mezz-heap ${JSON.stringify({ heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss })}\n`);
});
