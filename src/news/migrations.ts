/**
 * The news schema (seed 002's tables: users, news, nodes ("comisiones"), areas,
 * subscriptions, area-to-node assignments), plus what the seed lacked: password hashes,
 * revoked sessions, per-user read marks, node heartbeats and the shared token secret.
 */
import type { Migration } from '../platform/sql/migrations.js';

export const newsMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'users, areas, news, nodes',
    sql: `
      CREATE TABLE news_users (
        id bigserial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        password_hash text NOT NULL,
        is_admin boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE news_revoked_sessions (
        sid text PRIMARY KEY,
        expires_at timestamptz NOT NULL
      );
      CREATE TABLE news_areas (
        id bigserial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE news_subscriptions (
        user_id bigint NOT NULL REFERENCES news_users (id) ON DELETE CASCADE,
        area_id bigint NOT NULL REFERENCES news_areas (id) ON DELETE CASCADE,
        subscribed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, area_id)
      );
      CREATE TABLE news_items (
        id bigserial PRIMARY KEY,
        area_id bigint NOT NULL REFERENCES news_areas (id) ON DELETE CASCADE,
        author_id bigint NOT NULL REFERENCES news_users (id) ON DELETE CASCADE,
        body text NOT NULL,
        -- The client's key for this post: a retried post finds the first one (idempotent).
        client_key text NOT NULL,
        posted_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (author_id, client_key)
      );
      CREATE INDEX news_items_by_area ON news_items (area_id, id);
      CREATE TABLE news_reads (
        user_id bigint NOT NULL REFERENCES news_users (id) ON DELETE CASCADE,
        news_id bigint NOT NULL REFERENCES news_items (id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, news_id)
      );
      CREATE TABLE news_nodes (
        address text PRIMARY KEY,
        alive boolean NOT NULL DEFAULT true,
        last_heartbeat timestamptz NOT NULL DEFAULT now(),
        joined_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE news_assignments (
        area_id bigint NOT NULL REFERENCES news_areas (id) ON DELETE CASCADE,
        node_address text NOT NULL REFERENCES news_nodes (address) ON DELETE CASCADE,
        assigned_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (area_id, node_address)
      );
      CREATE INDEX news_assignments_by_node ON news_assignments (node_address);
      CREATE TABLE news_secret (
        id integer PRIMARY KEY CHECK (id = 1),
        secret bytea NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'name keys against look-alike names; log out everywhere',
    // name_key: names.ts's nameKey for new users. Existing users get NFKC + lower case; the
    // later of two that collide keeps NULL (it still logs in by its exact name).
    sql: `
      ALTER TABLE news_users ADD COLUMN name_key text;
      ALTER TABLE news_users ADD COLUMN sessions_valid_after timestamptz;
      UPDATE news_users u SET name_key = k.key
      FROM (
        SELECT id, key, row_number() OVER (PARTITION BY key ORDER BY id) AS n
        FROM (SELECT id, lower(normalize(name, NFKC)) AS key FROM news_users) named
      ) k
      WHERE u.id = k.id AND k.n = 1;
      CREATE UNIQUE INDEX news_users_by_name_key ON news_users (name_key);
    `,
  },
  {
    version: 3,
    name: 'read-through marks, so reading unread news costs the unread, not the whole area',
    // inserted_by: the transaction that posted the item. A user's read_through in an area is a
    // transaction id below which every item of the area is read (or theirs): set by a read
    // that returned every unread item, to the oldest transaction still running when it began.
    sql: `
      ALTER TABLE news_items ADD COLUMN inserted_by xid8 NOT NULL DEFAULT pg_current_xact_id();
      CREATE INDEX news_items_by_area_inserter ON news_items (area_id, inserted_by);
      CREATE TABLE news_read_through (
        user_id bigint NOT NULL REFERENCES news_users (id) ON DELETE CASCADE,
        area_id bigint NOT NULL REFERENCES news_areas (id) ON DELETE CASCADE,
        read_through xid8 NOT NULL,
        PRIMARY KEY (user_id, area_id)
      );
    `,
  },
];
