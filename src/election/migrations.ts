/**
 * The election schema. `ballots` holds every ballot once (its id is the primary key, so a
 * redelivered or retried ballot is a no-op); the summary tables are bumped in the same
 * transaction, for inserted rows only, so each dashboard chart reads O(groups), not O(rows).
 * Every election service applies these at start, so none ever sees a missing table.
 */
import type { Migration } from '../platform/sql/migrations.js';

export const electionMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'ballots and summaries',
    sql: `
      CREATE TABLE ballots (
        id text PRIMARY KEY,
        sede text NOT NULL,
        municipio text NOT NULL,
        departamento text NOT NULL,
        papeleta text NOT NULL,
        partido text NOT NULL,
        route text NOT NULL CHECK (route IN ('grpc', 'redis')),
        seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        received_at timestamptz NOT NULL DEFAULT now()
      );
      -- The ballots table's filters page newest first (seq desc) within one value.
      CREATE INDEX ballots_departamento_seq ON ballots (departamento, seq);
      CREATE INDEX ballots_municipio_seq ON ballots (municipio, seq);
      CREATE INDEX ballots_papeleta_seq ON ballots (papeleta, seq);
      CREATE INDEX ballots_partido_seq ON ballots (partido, seq);
      CREATE INDEX ballots_sede_seq ON ballots (sede, seq);

      CREATE TABLE party_by_department (
        papeleta text,
        departamento text,
        partido text,
        votes bigint NOT NULL,
        PRIMARY KEY (papeleta, departamento, partido)
      );
      CREATE TABLE party_by_municipality (
        papeleta text,
        departamento text,
        municipio text,
        partido text,
        votes bigint NOT NULL,
        PRIMARY KEY (papeleta, departamento, municipio, partido)
      );
      CREATE TABLE votes_by_sede (
        papeleta text,
        departamento text,
        municipio text,
        sede text,
        votes bigint NOT NULL,
        PRIMARY KEY (papeleta, departamento, municipio, sede)
      );
      CREATE INDEX votes_by_sede_papeleta_votes ON votes_by_sede (papeleta, votes DESC);
      -- One row per route and shard: each writer bumps the shard of its own connection, so
      -- concurrent commits never queue on one hot counter row. Readers sum the shards.
      CREATE TABLE ballots_by_route (
        route text,
        shard smallint,
        ballots bigint NOT NULL,
        PRIMARY KEY (route, shard)
      );
    `,
  },
];
