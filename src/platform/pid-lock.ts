/**
 * A directory held by one process at a time: the holder's pid sits in a file; a pid whose
 * process is gone (a SIGKILL, a crash) is taken over. The embedded broker's log and the data
 * directory of `agora up` are claimed this way.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Claims `file` for this process and returns the function that gives it back, or the pid of
 * the live process that holds it.
 */
export function claimPidFile(file: string): { release: () => void } | { heldBy: number } {
  for (;;) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = holderOf(file);
    // The same process may open its own directory again (a test standing in for a restart).
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
      return { heldBy: holder };
    }
    if (holder === process.pid) break;
    rmSync(file, { force: true });
  }
  return {
    release: () => {
      if (holderOf(file) === process.pid) rmSync(file, { force: true });
    },
  };
}

function holderOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
