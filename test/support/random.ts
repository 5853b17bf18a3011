/**
 * A seeded random generator for chaos tests: the seed is printed, and `AGORA_TEST_SEED=<n>`
 * replays the same votes, kills and choices, so a failure can be run again as it happened.
 */
import { randomInt } from 'node:crypto';

export interface SeededRandom {
  readonly seed: number;
  /** A float in [0, 1), like Math.random. */
  next(): number;
  /** A whole number in [0, max). */
  below(max: number): number;
}

export function seededRandom(label: string, env: NodeJS.ProcessEnv = process.env): SeededRandom {
  const given = env.AGORA_TEST_SEED;
  const seed = given !== undefined && /^\d+$/.test(given) ? Number(given) : randomInt(2 ** 31);
  process.stdout.write(`${label}: seed ${seed} (AGORA_TEST_SEED=${seed} replays it)\n`);
  // mulberry32: small, fast and well spread; enough to pick kills and votes.
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return { seed, next, below: (max) => Math.floor(next() * max) };
}
