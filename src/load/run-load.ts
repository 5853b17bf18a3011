/**
 * `runLoad`: what `agora load <system>` does once its options are parsed: prepare the
 * scenario, run it with the live view, verify, write the report, and return the exit code.
 */
import { Agent } from 'undici';

import { UsageError } from '../platform/errors.js';
import type { RunOptions } from './cli-options.js';
import { createLiveView } from './live-view.js';
import {
  buildReport,
  formatHeader,
  formatReport,
  verificationReport,
  writeReportFile,
} from './report.js';
import { runScenario } from './runner.js';
import type { RunRecord, Scenario, ScenarioContext, VerificationResult } from './scenario.js';
import { checkThresholds, exitCodeOf } from './thresholds.js';

export interface LoadIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborting it (Ctrl-C) stops the run; the report is still produced. */
  signal?: AbortSignal;
}

/** Prepares, runs, reports and verifies; returns the exit code (see thresholds.ts). */
export async function runLoad<User, Ack>(
  scenario: Scenario<User, Ack>,
  options: RunOptions,
  io: LoadIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const concurrency =
    options.model.kind === 'open' ? options.model.maxInFlight : options.model.users;
  const http = new Agent({
    connections: concurrency,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const target = { baseUrl: options.url, http };
  try {
    try {
      await scenario.prepare?.({ ...target, signal: AbortSignal.timeout(options.timeoutMs) });
    } catch (error) {
      throw new UsageError(`load ${scenario.name}: preparing failed: ${String(error)}`);
    }
    const title = `agora load ${scenario.name}`;
    io.stderr.write(
      `${formatHeader({ scenario: scenario.name, model: options.model, target: options.url.href })}\n`,
    );
    const view = options.live
      ? createLiveView(io.stderr, title, { tty: io.stderr.isTTY === true })
      : undefined;
    const onInterrupt = () =>
      io.stderr.write(
        `${title}: stopping; requests in flight get up to ${options.timeoutMs / 1000} s\n`,
      );
    io.signal?.addEventListener('abort', onInterrupt, { once: true });
    const result = await runScenario(scenario, target, {
      model: options.model,
      durationMs: options.durationMs,
      total: options.total,
      graceMs: options.timeoutMs,
      signal: io.signal,
      onSecond: (tick) => view?.update(tick),
    });
    view?.close();
    io.signal?.removeEventListener('abort', onInterrupt);

    const report = buildReport(scenario.name, options.url, options.model, result);
    report.thresholds = checkThresholds(report, options.thresholds);
    report.exitCode = exitCodeOf(report);
    // Written before verifying, so a verification that hangs or crashes still leaves a report.
    if (options.reportPath !== undefined) await writeReportFile(options.reportPath, report);
    if (!options.verify) report.verificationSkipped = true;
    else if (scenario.verify !== undefined) {
      io.stderr.write(
        `${title}: verifying ${result.record.acknowledged.length} acknowledged writes\n`,
      );
      const context = { ...target, signal: AbortSignal.timeout(options.verifyTimeoutMs) };
      report.verification = verificationReport(
        await verifyBounded(scenario.verify.bind(scenario), result.record, context),
      );
      report.exitCode = exitCodeOf(report);
      if (options.reportPath !== undefined) await writeReportFile(options.reportPath, report);
    }
    // The header went to stderr at the start; a report on the same terminal does not repeat it,
    // a report redirected to a file carries it.
    const sameTerminal = io.stdout.isTTY === true && io.stderr.isTTY === true;
    const text = `${formatReport(report, { withHeader: !options.json && !sameTerminal })}\n`;
    if (options.json) {
      io.stderr.write(text);
      io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      io.stdout.write(text);
    }
    return report.exitCode;
  } finally {
    await http.close();
  }
}

/** Runs `verify` within its context's deadline, even if the scenario ignores the signal. */
async function verifyBounded<Ack>(
  verify: (record: RunRecord<Ack>, context: ScenarioContext) => Promise<VerificationResult>,
  record: RunRecord<Ack>,
  context: ScenarioContext,
): Promise<VerificationResult> {
  const failure = (reason: string): VerificationResult => ({
    ok: false,
    checked: 0,
    differences: [`verification could not finish: ${reason}`],
  });
  const timedOut = new Promise<VerificationResult>((resolve) => {
    context.signal.addEventListener('abort', () => {
      resolve(failure('timed out (--verify-timeout)'));
    });
  });
  try {
    return await Promise.race([verify(record, context), timedOut]);
  } catch (error) {
    return failure(String(error));
  }
}
