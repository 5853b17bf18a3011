/**
 * The README cannot drift from the code: every setting, every service and every system folder
 * the code has is documented.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { consoleSettings } from '../src/console/settings.js';
import { platformSettings } from '../src/platform/platform-settings.js';
import { services } from '../src/services.js';
import { repoRoot } from './support/processes.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

describe('the README', () => {
  it.each(Object.values(platformSettings).map((setting) => setting.variable))(
    'documents the setting %s',
    (variable) => {
      expect(readme).toContain(`\`${variable}\``);
    },
  );

  it.each(Object.values(consoleSettings).map((setting) => setting.variable))(
    'documents the console setting %s in docs/configuration.md',
    (variable) => {
      const configuration = readFileSync(join(repoRoot, 'docs', 'configuration.md'), 'utf8');
      expect(configuration).toContain(`\`${variable}\``);
    },
  );

  it.each(services.map((service) => [service.name, service.defaultPort] as const))(
    'lists the service %s on port %i',
    (name, port) => {
      expect(readme).toMatch(new RegExp(`\\| ${name} +\\| \\S+ +\\| ${port} +\\|`));
    },
  );

  it.each([...new Set(services.map((service) => service.system))])(
    'has a README in the %s system folder',
    (system) => {
      expect(existsSync(join(repoRoot, 'src', system, 'README.md'))).toBe(true);
    },
  );
});
