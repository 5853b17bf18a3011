/**
 * What a system (one seed's application) registers: its services, its load profile and its
 * own commands. `src/services.ts` lists the systems; `agora up`, `run`, `status`, `load` and
 * the deployment checks iterate over them. Adding a system is a folder, its `index.ts` and one
 * line in that list (see src/platform/README.md). Reading a system loads only definitions: the
 * load profile and commands are imported when the CLI asks for them, a service's code when it
 * starts.
 */
import type { Command } from 'commander';

import type { LoadProfile } from '../load/command.js';
import type { ServiceDefinition, SystemName } from './service.js';
import type { Sql } from './sql/sql.js';

export interface SystemDefinition {
  name: SystemName;
  /** One line for `agora --help` and the README's table. */
  description: string;
  services: readonly ServiceDefinition[];
  /** `agora load <name>`, where the system has one; imports it. */
  loadProfile?(): Promise<LoadProfile>;
  /** Adds its own `agora` subcommands (`agora news ...`, `agora tasks ...`); imports them. */
  addCommands?(program: Command): Promise<void>;
  /**
   * Runs in `agora up` (one process) once every service is ready, with the database they
   * share; returns lines for the start-up output (news: the first admin, at the first start).
   * It imports its code when called.
   */
  firstSteps?(sql: Sql): Promise<readonly string[]>;
}

export function defineSystem(system: SystemDefinition): SystemDefinition {
  for (const service of system.services) {
    if (service.system !== system.name) {
      throw new Error(`${service.name} says it belongs to ${service.system}, not ${system.name}`);
    }
  }
  return system;
}
