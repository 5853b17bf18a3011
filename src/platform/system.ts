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
import type { Sql, SqlQueryable } from './sql/sql.js';

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
  /** What the console shows of it beyond its processes (src/console/). */
  console?: SystemConsole;
}

export interface SystemConsole {
  /** Its streams: length, each group's pending count, lag and consumers, dead letters. */
  queues?: readonly QueueDeclaration[];
  /** A live table from its own tables, e.g. which news node serves each area. */
  view?: SystemView;
}

export interface QueueDeclaration {
  stream: string;
  group: string;
  deadLetterStream?: string;
}

export interface SystemView {
  title: string;
  /** What a key and its values are ("area", "nodes"), for the page's table header. */
  keyLabel: string;
  valuesLabel: string;
  /** Key -> values; the console notes each key whose values change in its timeline. */
  read(sql: SqlQueryable): Promise<Record<string, readonly string[]>>;
}

export function defineSystem(system: SystemDefinition): SystemDefinition {
  for (const service of system.services) {
    if (service.system !== system.name) {
      throw new Error(`${service.name} says it belongs to ${service.system}, not ${system.name}`);
    }
  }
  return system;
}
