/**
 * How the CLI ends on an error a user can fix: one line on stderr and a non-zero exit code,
 * never a stack trace. Unexpected errors still show their stack.
 */
import { BrokerLogCorruptError, BrokerLogLockedError } from '../platform/broker/errors.js';
import { ConfigError, DataDirLockedError, UsageError } from '../platform/errors.js';

export function exitWithError(error: unknown): never {
  if (error instanceof ConfigError || error instanceof UsageError) {
    process.stderr.write(`agora: ${error.message}\n`);
    process.exit(2);
  }
  if (
    error instanceof BrokerLogCorruptError ||
    error instanceof BrokerLogLockedError ||
    error instanceof DataDirLockedError
  ) {
    // Starting would drop what follows the damage, or interleave with another process' log.
    process.stderr.write(`agora: ${error.message}\n`);
    process.exit(1);
  }
  const port = listenErrorMessage(error);
  if (port !== undefined) {
    process.stderr.write(`agora: ${port}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `agora: unexpected error\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
}

function listenErrorMessage(error: unknown): string | undefined {
  const { code, address, port } = error as { code?: string; address?: string; port?: number };
  if (code === 'EADDRINUSE') return `cannot listen on ${address}:${port}: the port is in use`;
  if (code === 'EACCES') return `cannot listen on ${address}:${port}: permission denied`;
  return undefined;
}
