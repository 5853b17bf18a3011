/**
 * The first step of `npm start`: when an `agora up` already holds the data directory, say so
 * at once and stop, before the build rewrites dist/ under that running process (its services
 * load their code from there) and before a minute of building ends in the same refusal.
 *
 * Plain JavaScript, since it runs before anything is built. It reads the pid file that
 * src/platform/pid-lock.ts writes, and prints what src/platform/errors.ts's
 * DataDirLockedError says; `agora up` still makes the real claim.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const directory = process.env.AGORA_DATA_DIR || '.agora/data';
const holder = pidIn(join(directory, 'agora.pid'));
if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
  process.stderr.write(
    `agora: Agora is already running on ${directory} (process ${holder}): use that one, stop it with Ctrl-C in its terminal, or set AGORA_DATA_DIR to another directory\n`,
  );
  process.exit(1);
}

function pidIn(file) {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return error.code === 'EPERM';
  }
}
