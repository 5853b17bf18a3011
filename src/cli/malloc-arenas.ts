/**
 * How many malloc arenas a service process the CLI starts gets (`up --distributed`, `run
 * --cluster`; the image sets the same). glibc gives each thread that allocates an arena of its
 * own, up to eight per core, and keeps what they freed: V8's compiler and GC threads leave 2 to
 * 4 MB of the counter's resting memory there. Two arenas keep most of that off, at no CPU cost
 * per request measured. glibc reads the variable at start, so only a parent can set it; one the
 * user set wins.
 */
export const mallocArenaMax = '2';
