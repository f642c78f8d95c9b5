/**
 * The V8 heap settings the daemon runs with (Dockerfile ENTRYPOINT; the soak, storm and CPU figures of
 * bench:reliability run with the same). Measured on the 1,000-metric soak: after a full GC the heap
 * holds ~29 MB, yet with V8's defaults resident memory peaked near 270 MB — not retained data but
 * headroom: 16 MB semi-spaces (~48 MB of young generation reserved) and an old generation let grow up
 * to 4× its live size before the next full collection. A daemon whose live set is small and whose
 * cycles allocate short-lived data pays a few more collections (CPU per cycle unchanged within noise)
 * for memory that tracks what it keeps. Neither flag caps the heap: a larger estate still gets the
 * memory it needs.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = [
  // Young generation: semi-spaces of 2 MB (default up to 16 MB on 64-bit).
  '--max-semi-space-size=2',
  // Old generation: the next full GC when it grew by half of what survived the last (default up to 4×).
  '--heap-growing-percent=50',
];
