/** The Agora checkout (or image) this module runs from: the folder of its package.json. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageRoot {
  dir: string;
  version: string;
}

function findRoot(): PackageRoot | undefined {
  // The module runs from src/ under Vitest, from dist/src/ as tsc compiled it and from dist/cli/
  // as bundled (rolldown.config.ts): walk up to the package.
  for (
    let dir = dirname(fileURLToPath(import.meta.url));
    dir !== dirname(dir);
    dir = dirname(dir)
  ) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'agora' && pkg.version !== undefined) return { dir, version: pkg.version };
  }
  return undefined;
}

/** Undefined only for a copy of the code without its package.json. */
export const packageRoot = findRoot();

/** Where the package's files (built pages, the .proto) are found; else the working directory. */
export const packageDir = packageRoot?.dir ?? process.cwd();
