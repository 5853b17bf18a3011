/**
 * The tasks schema. One row per task; `(client_id, idempotency_key)` is unique, so a retried
 * POST can only ever find the task its first attempt made, however many replicas race on it.
 */
import type { Migration } from '../platform/sql/migrations.js';

export const tasksMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'tasks',
    sql: `
      CREATE TABLE tasks (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        client_id text NOT NULL DEFAULT '',
        idempotency_key text,
        request_hash text,
        title text NOT NULL,
        description text NOT NULL DEFAULT '',
        done boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT tasks_idempotency_key UNIQUE (client_id, idempotency_key)
      );
      CREATE INDEX tasks_client_newest ON tasks (client_id, id DESC);
      CREATE INDEX tasks_done_newest ON tasks (done, id DESC);
    `,
  },
  {
    // /status read every row per call (GROUP BY done). The counts are kept beside the rows, in
    // the same transaction, by statement-level triggers: one upsert per status per statement,
    // spread over 16 shards by backend so concurrent writers rarely wait for one another.
    version: 2,
    name: 'task counts',
    sql: `
      CREATE TABLE task_counts (
        done boolean NOT NULL,
        shard smallint NOT NULL,
        count bigint NOT NULL,
        PRIMARY KEY (done, shard)
      );
      INSERT INTO task_counts (done, shard, count)
        SELECT done, 0, count(*) FROM tasks GROUP BY done;

      CREATE FUNCTION task_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO task_counts (done, shard, count)
            SELECT done, pg_backend_pid() % 16, count(*) FROM new_rows GROUP BY done
          ON CONFLICT (done, shard) DO UPDATE SET count = task_counts.count + excluded.count;
        ELSIF TG_OP = 'DELETE' THEN
          INSERT INTO task_counts (done, shard, count)
            SELECT done, pg_backend_pid() % 16, -count(*) FROM old_rows GROUP BY done
          ON CONFLICT (done, shard) DO UPDATE SET count = task_counts.count + excluded.count;
        ELSE
          INSERT INTO task_counts (done, shard, count)
            SELECT done, pg_backend_pid() % 16, sum(delta) FROM (
              SELECT done, 1 AS delta FROM new_rows
              UNION ALL SELECT done, -1 FROM old_rows
            ) AS changes GROUP BY done HAVING sum(delta) <> 0
          ON CONFLICT (done, shard) DO UPDATE SET count = task_counts.count + excluded.count;
        END IF;
        RETURN NULL;
      END $$;

      CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION task_counts_follow();
      CREATE TRIGGER task_counts_update AFTER UPDATE ON tasks
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION task_counts_follow();
      CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION task_counts_follow();
    `,
  },
];
