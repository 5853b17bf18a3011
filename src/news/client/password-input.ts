/**
 * Where a password comes from, for login, register and create-admin: `--password-stdin`,
 * AGORA_NEWS_PASSWORD, or a prompt on the terminal that shows "Password:" and does not echo
 * what is typed (register asks twice). Prompts go to stderr, so `--json` output stays clean.
 */
import { createInterface } from 'node:readline/promises';

import { UsageError } from '../../platform/errors.js';

export interface PasswordOptions {
  passwordStdin?: boolean;
}

export async function readPassword(options: PasswordOptions): Promise<string> {
  return (await givenPassword(options)) ?? promptHidden('Password: ');
}

/** For a new account: a prompted password is asked twice, and the two must match. */
export async function readNewPassword(options: PasswordOptions): Promise<string> {
  const given = await givenPassword(options);
  if (given !== undefined) return given;
  const first = await promptHidden('Password: ');
  const second = await promptHidden('Password again: ');
  if (first !== second) throw new UsageError('the two passwords differ; nothing was created');
  return first;
}

async function givenPassword(options: PasswordOptions): Promise<string | undefined> {
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
  return undefined;
}

/** A yes/no question on the terminal; anything but y or yes is no. */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/**
 * Prompts without echoing: the terminal in raw mode, each key read here. (Readline redraws
 * its line on every key, which erased a prompt written before it.)
 */
export function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  return new Promise((resolve, reject) => {
    let answer = '';
    const finish = (end: () => void) => {
      input.off('data', onKey);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
      end();
    };
    const onKey = (chunk: string) => {
      for (const key of chunk) {
        if (key === '\r' || key === '\n') {
          finish(() => {
            resolve(answer);
          });
          return;
        }
        if (key === '\u0003') {
          // Ctrl-C: the terminal is given back before the usual exit code of an interrupt.
          finish(() => process.exit(130));
          return;
        }
        if (key === '\u0004' && answer === '') {
          finish(() => {
            reject(new UsageError('no password given'));
          });
          return;
        }
        if (key === '\u007f' || key === '\b') answer = withoutLastCharacter(answer);
        else if (key >= ' ') answer += key;
      }
    };
    process.stderr.write(question);
    input.setEncoding('utf8');
    input.setRawMode(true);
    input.on('data', onKey);
    input.resume();
  });
}

/** Backspace: the last character typed, a surrogate pair counted as one. */
function withoutLastCharacter(text: string): string {
  const end = text.length - 1;
  const pair = end > 0 && /[\uDC00-\uDFFF]/.test(text.charAt(end));
  return text.slice(0, pair ? end - 1 : end);
}
