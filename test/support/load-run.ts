/**
 * `agora load` as a chaos test runs it: in its own process, writing its JSON report, which the
 * test reads once the run has exited. The load generator's verification is the judge.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { LoadReport } from '../../src/load/report.js';
import { uniqueName } from './backends.js';
import { type ProcessOptions, startAgora } from './processes.js';

/**
 * The flags of a run through an outage: every request ends within 3 s, answered or not, so
 * none may hang on it; the outage fails requests, and only the verification must pass.
 */
export const throughOutage = ['--timeout', '3s', '--max-failures', '100%'] as const;

/** Starts `agora load <args> --no-live --report <dir>/report-*.json`. */
export function startLoadRun(dir: string, args: readonly string[], options: ProcessOptions = {}) {
  const reportPath = join(dir, `report-${uniqueName('run')}.json`);
  const run = startAgora(['load', ...args, '--no-live', '--report', reportPath], options);
  return {
    run,
    /** Once the run has exited: its exit code, its report and what it printed. */
    finished: async () => {
      const exit = await run.exited;
      const report = JSON.parse(await readFile(reportPath, 'utf8')) as LoadReport;
      return { code: exit.code, report, output: run.output() };
    },
  };
}
