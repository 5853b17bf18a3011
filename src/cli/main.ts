#!/usr/bin/env node
/**
 * The `agora` command. Node resolves and compiles a module's whole static import graph before
 * any of it runs, so this entry imports only what must come first: glibc's malloc settings
 * (malloc-exec.ts, which may execute the process again with them), how this process's start-up
 * uses V8 (start-up.ts) and the compile cache (compile-cache.ts). The commands, and with them
 * every service's code, load after these are in place.
 */
import './malloc-exec.js';
import './start-up.js';
import './compile-cache.js';

await import('./commands.js');
