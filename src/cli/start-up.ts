/**
 * What a service's start-up leaves in memory once it rests. For `run` and `up`, until the
 * services are ready (`startUpOver`), V8 holds back what start-up would otherwise grow for good:
 *
 * - its young generation. Loading a service allocates tens of MB that survive (modules,
 *   schemas, routes); V8 reads that survival as a sign to double its semi-spaces, up to 16 MB
 *   each, which then sit nearly empty at rest: 10 to 13 MB of the counter's RSS.
 * - its optimizing compiler, TurboFan. Resolving a service's fifty-odd chunks calls Node's own
 *   path and URL functions often enough that V8 optimizes three of them, and TurboFan's machine
 *   code, pages of the node binary that a bare node:http server never touches, is then 5 MB of
 *   a resting counter's RSS.
 *
 * Not Sparkplug, V8's baseline compiler, nor the regular expressions' tier-up, although holding
 * them saved 0.6 and 0.7 MB more: with the tier-up set again once ready, a pattern compiled
 * while it was off crashed V8 (a segmentation fault on tasks' first POST), and with Sparkplug
 * held the counter's `GET /` measured 0.64 to 0.76 of the bare server against 0.76 to 0.78
 * without it. V8 does not promise that a flag changed at run time is safe: each one held here
 * has been through the whole test suite.
 *
 * Then V8's defaults are back (it reads these flags at each scavenge and each tier-up) and
 * traffic grows the young generation and compiles hot code as before; after 10 s at the
 * latest, so that in an `up` whose one service waits for a database that is down the others
 * still serve at full speed. Whoever sets one of these flags on the command line
 * or in NODE_OPTIONS keeps it. Imported by main.ts before the commands' code: resolving the
 * CLI's own modules counts too.
 */
import v8 from 'node:v8';

import { runsServices, userNodeFlags } from './invocation.js';

/** A V8 flag held at `held` until start-up is over, then set back to V8's default. */
interface Hold {
  /** Matches the flag as a user would spell it (V8 takes - and _ alike). */
  setByUser: RegExp;
  held: string;
  /** V8's default (node --v8-options). */
  released: string;
}

const holds: readonly Hold[] = [
  {
    setByUser: /semi[-_]space[-_]growth[-_]factor/,
    held: '--semi-space-growth-factor=1',
    released: '--semi-space-growth-factor=2',
  },
  {
    // --no-opt, --max-opt and --jitless decide about TurboFan too.
    setByUser: /--(no[-_])?(turbofan|opt|max[-_]opt|jitless)\b/,
    held: '--no-turbofan',
    released: '--turbofan',
  },
];

/** Longest a hold lasts, ready or not. */
const longestHoldMs = 10_000;

let active: Hold[] = [];
if (runsServices) {
  active = holds.filter((hold) => !hold.setByUser.test(userNodeFlags));
  for (const hold of active) v8.setFlagsFromString(hold.held);
  setTimeout(startUpOver, longestHoldMs).unref();
}

/** Start-up is over (the services are ready, or this process runs none): V8 as usual. */
export function startUpOver(): void {
  for (const hold of active) v8.setFlagsFromString(hold.released);
  active = [];
}
