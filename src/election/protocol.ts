/**
 * What the election services agree on: the `ballots` stream and its entry, the consumer group,
 * the dead-letter stream, the list of recent ballots, the notification sent after each commit,
 * and where the gRPC server listens.
 */
import type { Ballot, Route } from './ballot.js';

export const electionSystem = 'election';

/** The Redis route's queue: the gateway appends, subscribers read it through one group. */
export const ballotsStream = 'ballots';
export const subscribersGroup = 'election-subscribers';
/** Entries that cannot be parsed go here, with the reason, instead of blocking the queue. */
export const deadLetterStream = 'ballots:dead';
/** The field of a `ballots` entry holding the ballot as JSON, its id already assigned. */
export const ballotEntryField = 'ballot';

/** The newest ballots stored, newest first, for the dashboard's "last 5" table. */
export const recentBallotsKey = 'ballots:recent';
export const recentBallotsCount = 5;

/** Published after every commit that stored ballots; payload `StoredNotification` as JSON. */
export const storedChannel = 'election:stored';

export interface StoredNotification {
  route: Route;
  stored: number;
}

/** An item of the recent list: the ballot, its route and when Postgres stored it. */
export interface RecentBallot extends Ballot {
  route: Route;
  /** ISO 8601. */
  receivedAt: string;
}

/** The gRPC server's default address; AGORA_ELECTION_GRPC_URL overrides it. */
export const defaultGrpcPort = 50051;
export const defaultGrpcAddress = `127.0.0.1:${defaultGrpcPort}`;
/** The gRPC service name as `grpc.health.v1.Health` reports it. */
export const grpcServiceName = 'agora.election.v1.Ballots';

/** The fields of the `ballots` stream entry for a ballot. */
export function ballotEntry(ballot: Ballot): Record<string, string> {
  return { [ballotEntryField]: JSON.stringify(ballot) };
}
