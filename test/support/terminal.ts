/**
 * A real terminal for interactive commands: tmux on a private socket, so a test types at the
 * prompts the user would see and reads the screen as it stands.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { uniqueName } from './backends.js';
import { agoraCli } from './processes.js';

const run = promisify(execFile);

export class Terminal {
  readonly #socket = uniqueName('tmux');

  #tmux(...args: string[]) {
    return run('tmux', ['-L', this.#socket, ...args]);
  }

  /**
   * Runs `agora <args>` in a new session of `rows` lines with `env` added; when it exits, the
   * screen shows `[exited <status>]` and stays readable.
   */
  async start(session: string, env: Record<string, string>, rows: number, ...args: string[]) {
    await this.#tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '160',
      '-y',
      String(rows),
      ...Object.entries(env).flatMap(([name, value]) => ['-e', `${name}=${value}`]),
      'sh',
      '-c',
      'node "$@"; echo "[exited $?]"; sleep 60',
      'sh',
      agoraCli,
      ...args,
    );
  }

  /** What the session shows, with up to 500 lines of scrollback. */
  async screen(session: string): Promise<string> {
    return (await this.#tmux('capture-pane', '-p', '-t', session, '-S', '-500')).stdout;
  }

  /** Types `keys` and Enter. */
  async type(session: string, keys: string): Promise<void> {
    await this.#tmux('send-keys', '-t', session, '-l', keys);
    await this.#tmux('send-keys', '-t', session, 'Enter');
  }

  async kill(session: string): Promise<void> {
    await this.#tmux('kill-session', '-t', session).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.#tmux('kill-server').catch(() => undefined);
  }
}
