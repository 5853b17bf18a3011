/**
 * Where a password comes from, for login, register and create-admin: `--password-stdin`,
 * AGORA_NEWS_PASSWORD, or a prompt that does not echo when a terminal is attached.
 */
import { createInterface } from 'node:readline';

import { UsageError } from '../../platform/errors.js';

export async function readPassword(options: { passwordStdin?: boolean }): Promise<string> {
  if (options.passwordStdin === true) {
    let text = '';
    for await (const chunk of process.stdin) text += String(chunk);
    return text.replace(/\r?\n$/, '');
  }
  const fromEnv = process.env.AGORA_NEWS_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY) {
    throw new UsageError('no password: use --password-stdin, AGORA_NEWS_PASSWORD or a terminal');
  }
  return promptHidden('Password: ');
}

/** Prompts on the terminal without echoing what is typed. */
export function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const output = rl as unknown as { _writeToOutput: (text: string) => void };
    process.stdout.write(question);
    // readline echoes through _writeToOutput; silencing it hides the password as typed.
    output._writeToOutput = () => undefined;
    rl.question('', (answer) => {
      rl.close();
      process.stdout.write('\n');
      resolve(answer);
    });
  });
}
