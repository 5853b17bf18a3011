/**
 * How `POST /ingest` splits traffic between the two routes, as the seed's ingress did: a random
 * pick per request, weighted by ELECTION_ROUTE_WEIGHTS (`grpc=1,redis=1`).
 */
import type { Setting } from '../../platform/config.js';
import type { Route } from '../ballot.js';

export type RouteWeights = Readonly<Record<Route, number>>;

export const evenWeights: RouteWeights = { grpc: 1, redis: 1 };

/** `grpc=3,redis=1` -> weights; undefined when malformed or when every weight is 0. */
export function parseRouteWeights(raw: string): RouteWeights | undefined {
  const weights: Record<Route, number> = { grpc: 0, redis: 0 };
  const seen = new Set<string>();
  for (const part of raw.split(',')) {
    const match = /^\s*(grpc|redis)\s*=\s*(\d{1,6}(?:\.\d+)?)\s*$/.exec(part);
    const route = match?.[1] as Route | undefined;
    if (match === null || route === undefined || seen.has(route)) return undefined;
    seen.add(route);
    weights[route] = Number(match[2]);
  }
  return weights.grpc + weights.redis > 0 ? weights : undefined;
}

/** The ELECTION_ROUTE_WEIGHTS setting, validated at start like every other. */
export function routeWeightsSetting(variable: string): Setting<RouteWeights> {
  return {
    variable,
    aliases: [],
    expects: 'weights like grpc=1,redis=1 (numbers >= 0, not all 0)',
    description: 'How POST /ingest splits ballots between the gRPC and the Redis route.',
    fallback: evenWeights,
    required: false,
    parse: parseRouteWeights,
  };
}

/** A route drawn at random in proportion to its weight; `random` returns [0, 1). */
export function pickRoute(weights: RouteWeights, random: () => number = Math.random): Route {
  const total = weights.grpc + weights.redis;
  return random() * total < weights.grpc ? 'grpc' : 'redis';
}
