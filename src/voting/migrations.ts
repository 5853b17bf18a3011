/**
 * The voting schema. `votes` holds each voter's current vote and the stream id it came from
 * (a later entry wins, whatever order workers commit in); `vote_tally` keeps the counts the
 * result page reads, updated in the same transaction, so reading them is O(options).
 * Both worker and result apply these at start, so neither ever sees a missing table.
 */
import type { Migration } from '../platform/sql/migrations.js';

export const votingMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'votes and tally',
    sql: `
      CREATE TABLE votes (
        voter_id text PRIMARY KEY,
        vote text NOT NULL CHECK (vote IN ('a', 'b')),
        stream_ms bigint NOT NULL,
        stream_seq bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE vote_tally (
        option text PRIMARY KEY CHECK (option IN ('a', 'b')),
        votes bigint NOT NULL DEFAULT 0 CHECK (votes >= 0)
      );
      INSERT INTO vote_tally (option, votes) VALUES ('a', 0), ('b', 0);
    `,
  },
];
