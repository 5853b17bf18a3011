/**
 * Keeps a service's start-up from growing V8's young generation. Loading a service allocates
 * tens of MB that survive (modules, schemas, routes); V8 reads that survival as a sign to
 * double its semi-spaces, up to 16 MB each, which then sit nearly empty at rest: 10 to 13 MB
 * of the counter's RSS. So for `run` and `up` the young generation does not grow until the
 * services are ready; then V8's default factor is back (V8 reads it at each scavenge) and
 * traffic grows it as before. Imported first by main.ts: the CLI's own modules count too.
 */
import v8 from 'node:v8';

// V8's default for --semi-space-growth-factor (node --v8-options).
const defaultGrowthFactor = 2;

/** Whoever sets the factor on the command line or in NODE_OPTIONS keeps it. */
const setByUser = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((flag) =>
  /semi[-_]space[-_]growth[-_]factor/.test(flag),
);

let held = false;
if (!setByUser && ['run', 'up'].includes(process.argv[2] ?? '')) {
  held = true;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

/** Start-up is over (the services are ready, or this process runs none): growth as usual. */
export function allowGrowth(): void {
  if (!held) return;
  held = false;
  v8.setFlagsFromString(`--semi-space-growth-factor=${defaultGrowthFactor}`);
}
