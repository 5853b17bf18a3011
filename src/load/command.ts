/**
 * `agora load <system>`: one sub-command per load profile, each with the shared options of
 * cli-options.ts plus the profile's own.
 */
import type { Command } from 'commander';

import {
  addLoadOptions,
  interruptSignal,
  parseRunOptions,
  type RawLoadOptions,
  type RunOptions,
} from './cli-options.js';
import { runLoad } from './run-load.js';
import type { Scenario } from './scenario.js';

/** What a system exports so `agora load <system>` can drive it. */
export interface LoadProfile {
  /** The sub-command name, e.g. "voting". */
  readonly system: string;
  readonly description: string;
  /** `--url` when none is given, e.g. from AGORA_VOTE_URL or the service's default port. */
  defaultUrl(env: NodeJS.ProcessEnv): string;
  /** Adds the profile's own options (data file, route weights) to its command. */
  addOptions?(command: Command): void;
  /** Builds the scenario from the parsed shared options and the command's own options. */
  createScenario(
    run: RunOptions,
    own: Record<string, unknown>,
  ): Scenario<unknown, unknown> | Promise<Scenario<unknown, unknown>>;
}

export function addLoadCommands(program: Command, profiles: readonly LoadProfile[]): Command {
  const load = program
    .command('load')
    .description(
      'Put load on a system, report latency and failures, then verify nothing acknowledged was lost.',
    );
  for (const profile of profiles) {
    const command = load.command(profile.system).description(profile.description);
    addLoadOptions(command, profile.defaultUrl(process.env));
    profile.addOptions?.(command);
    command.action(async () => {
      const own = command.opts<Record<string, unknown>>();
      const run = parseRunOptions(command.opts<RawLoadOptions>());
      const scenario = await profile.createScenario(run, own);
      process.exitCode = await runLoad(scenario, run, {
        stdout: process.stdout,
        stderr: process.stderr,
        signal: interruptSignal(),
      });
    });
  }
  return load;
}
