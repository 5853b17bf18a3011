/**
 * Gives a service process that was started without glibc's malloc settings (`agora run` from a
 * shell, `npm start`) those settings, by executing itself again with them in its environment:
 * glibc reads them only when a process starts (malloc.ts says what they save). The same pid,
 * arguments and standard streams, before any of the commands' code has loaded; about 30 ms of
 * a start. Imported first by main.ts, and only `run` and `up` are executed again.
 *
 * Not where it could not help or would surprise: a C library other than glibc, a Node without
 * `process.execve` (22.15), a process with an IPC channel (execve keeps only the standard
 * streams open), or an inspector flag (`--inspect-brk` would stop twice).
 */
import { readFileSync } from 'node:fs';

import { runsServices, userNodeFlags } from './invocation.js';
import { missingMallocSettings } from './malloc.js';

const missing = runsServices ? missingMallocSettings(process.env) : {};
const inspected = /--inspect/.test(userNodeFlags);

if (
  Object.keys(missing).length > 0 &&
  process.platform === 'linux' &&
  typeof process.execve === 'function' &&
  process.channel === undefined &&
  !inspected &&
  usesGlibc()
) {
  try {
    process.execve(
      process.execPath,
      [process.execPath, ...process.execArgv, ...process.argv.slice(1)],
      { ...process.env, ...missing },
    );
  } catch {
    // execve(2) refused (a seccomp filter, say): this process runs on, with glibc's defaults.
  }
}

/** glibc's soname is libc.so.6 wherever Linux runs it; musl's is ld-musl-<arch>.so.1. */
function usesGlibc(): boolean {
  try {
    return readFileSync('/proc/self/maps', 'latin1').includes('/libc.so.6');
  } catch {
    return false;
  }
}
