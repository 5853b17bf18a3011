/** The running Agora version, read once from the package.json above this module. */
import { packageRoot } from './package-root.js';

export const version = packageRoot?.version ?? '0.0.0';
