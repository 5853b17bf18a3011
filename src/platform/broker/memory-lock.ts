/**
 * One process per embedded broker log: two appending to one file would interleave their
 * records. The holder's pid sits in `broker.pid` beside the log; a pid whose process is gone
 * (a SIGKILL, a crash) is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { BrokerLogLockedError } from './errors.js';

/** Claims `directory` for this process; the returned function gives it back. */
export function lockDirectory(directory: string): () => void {
  const file = join(directory, 'broker.pid');
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
      throw new BrokerLogLockedError(directory, holder);
    }
    rmSync(file, { force: true });
  }
  return () => {
    if (holderOf(file) === process.pid) rmSync(file, { force: true });
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
