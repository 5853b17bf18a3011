/**
 * glibc's malloc settings for the processes that run services, which glibc reads only when a
 * process starts:
 *
 * - `MALLOC_ARENA_MAX=2`. glibc gives each thread that allocates an arena of its own, up to
 *   eight per core, and keeps what they freed: V8's compiler and GC threads leave 2 to 4 MB of a
 *   service's memory there. Two arenas keep most of that off, at no CPU cost per request
 *   measured.
 * - `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072`. glibc's threshold for giving a block
 *   its own mapping starts at 128 kB but rises, for good, to the size of the largest such block
 *   freed, and its trim threshold to twice that: the 1.2 MB buffer the Fastify chunk is read
 *   into leaves glibc keeping 2.3 MB free at the top of its heap. A fixed threshold keeps both
 *   at 128 kB: 1.8 MB less of a resting counter, and under `GET /` load as few page faults as
 *   without it (500 to 1,200 a second either way, `perf stat`).
 *
 * The supervisor and a cluster's primary put them in their children's environment, the image
 * in every container's; `malloc-exec.ts` has a process started otherwise set them itself. A
 * value the user set wins.
 */
export const mallocSettings: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072',
};

/** The malloc settings `env` does not set already. */
export function missingMallocSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(mallocSettings).filter(([name]) => env[name] === undefined),
  );
}
