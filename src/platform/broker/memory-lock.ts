/**
 * One process per embedded broker log: two appending to one file would interleave their
 * records. The holder's pid sits in `broker.pid` beside the log.
 */
import { join } from 'node:path';

import { claimPidFile } from '../pid-lock.js';
import { BrokerLogLockedError } from './errors.js';

/** Claims `directory` for this process; the returned function gives it back. */
export function lockDirectory(directory: string): () => void {
  const claim = claimPidFile(join(directory, 'broker.pid'));
  if ('heldBy' in claim) throw new BrokerLogLockedError(directory, claim.heldBy);
  return claim.release;
}
