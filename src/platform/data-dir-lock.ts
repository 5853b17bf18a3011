/**
 * One process per embedded data directory: PGlite and the embedded broker's log are each
 * written by one process only, and a second `agora up` must say so before it opens either.
 * The holder's pid sits in `agora.pid` in the directory.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { DataDirLockedError } from './errors.js';
import { claimPidFile } from './pid-lock.js';

/** Claims the data directory for this process; throws DataDirLockedError while another holds it. */
export function lockDataDir(directory: string): () => void {
  mkdirSync(directory, { recursive: true });
  const claim = claimPidFile(join(directory, 'agora.pid'));
  if ('heldBy' in claim) throw new DataDirLockedError(directory, claim.heldBy);
  return claim.release;
}
