/**
 * How the bundled gateway is run on a box: the Node flags and environment the wrapper
 * (firmware-shims/install/siem-gateway) sets. The benchmarks run the bundle with exactly these, so
 * what they measure is what ships; a test checks the wrapper says the same.
 * - a 64 MB old generation: the gateway's working set is small and bounded by design;
 * - 2 MB semi-spaces: V8's default young generation (up to 3 × 16 MB) is sized for throughput on
 *   servers; on a Pi it is RAM that a 1,000,000-event drain kept resident (peak RSS 178 → 133 MB,
 *   drain rate unchanged within noise, `npm run bench -- store-forward`);
 * - two malloc arenas: glibc's per-thread arenas otherwise make RSS creep under LevelDB's threads.
 */
export const GATEWAY_HEAP_MB = 64;
export const GATEWAY_SEMI_SPACE_MB = 2;
export const GATEWAY_NODE_FLAGS = [
  `--max-old-space-size=${GATEWAY_HEAP_MB}`,
  `--max-semi-space-size=${GATEWAY_SEMI_SPACE_MB}`,
];
export const GATEWAY_ENV = { MALLOC_ARENA_MAX: '2' };
