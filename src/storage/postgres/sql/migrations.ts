import { type SqlNames, WAITING_SQL } from "../names.js";

/*
 * The layout of an omniq schema, one entry per version.
 *
 * Tasks live in two tables. `tasks` holds only waiting and running tasks, so
 * it stays as small as the backlog however many tasks have ever run; a task
 * moves to `finished` (with its result) in the statement that ends it.
 * Lookups read both; a single statement sees one snapshot, so a task moving
 * between them is found in exactly one.
 *
 * Claims read the partial index `tasks_ready`, which holds waiting rows only,
 * in claim order within a queue: a claim walks the first few entries of one
 * queue however deep the backlog is.
 *
 * `tasks_leased` serves housekeeping's search for expired leases. A lease
 * expiry is set exactly while a task runs, so its predicate says the same as
 * `state = 'running'`, yet it is written differently on purpose: statements
 * that fence with `state = 'running'` (settle, heartbeat, release) must find
 * their rows by primary key. Matched to this index instead, they would read
 * every entry it holds, including one left behind by each task that ran
 * since the last vacuum.
 *
 * Times are bigint milliseconds from the store's clock, never the server's,
 * so tests can move time. JSON (backoff, errors) is stored as text: the
 * server never looks inside it. `cancel_reason` keeps the reason of a
 * cancellation asked for while the task ran, for when its lease runs out.
 *
 * `seq` orders tasks FIFO and follows a task into `finished`. Events have
 * their own bigserial `seq`.
 *
 * Deleting what has outlived its time-to-live reads an index either way.
 * Events are written in time order, so a BRIN index on `at` (a few bytes per
 * thousand rows, next to nothing per insert) finds the old ones; pages not
 * yet summarized are read whole, and `autosummarize` keeps those few. The
 * `delete_at` of finished tasks follows each task's own result time-to-live,
 * not insertion order, so it needs a btree.
 */
export const MIGRATIONS: readonly ((n: SqlNames) => string)[] = [
  (n) => `
  CREATE TABLE ${n.tasks} (
    id               text PRIMARY KEY,
    seq              bigserial NOT NULL,
    name             text NOT NULL,
    queue            text NOT NULL,
    priority         integer NOT NULL,
    payload          text NOT NULL,
    run_at           bigint NOT NULL,
    created_at       bigint NOT NULL,
    max_attempts     integer NOT NULL,
    timeout_ms       bigint,
    expires_at       bigint,
    result_ttl_ms    bigint NOT NULL,
    backoff          text,
    worker           text NOT NULL,
    module           text,
    state            text NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    lease_losses     integer NOT NULL DEFAULT 0,
    token            integer NOT NULL DEFAULT 0,
    lease_owner      text,
    lease_expires_at bigint,
    started_at       bigint,
    finished_at      bigint,
    cancel_requested boolean NOT NULL DEFAULT false,
    cancel_reason    text,
    last_error       text
  );

  CREATE INDEX tasks_ready ON ${n.tasks} (queue, priority DESC, run_at, seq)
    WHERE state IN ${WAITING_SQL};
  CREATE INDEX tasks_leased ON ${n.tasks} (lease_expires_at) WHERE lease_expires_at IS NOT NULL;
  CREATE INDEX tasks_expiring ON ${n.tasks} (expires_at)
    WHERE expires_at IS NOT NULL AND state IN ${WAITING_SQL};

  CREATE TABLE ${n.finished} (
    id               text PRIMARY KEY,
    seq              bigint NOT NULL,
    name             text NOT NULL,
    queue            text NOT NULL,
    priority         integer NOT NULL,
    payload          text NOT NULL,
    run_at           bigint NOT NULL,
    created_at       bigint NOT NULL,
    max_attempts     integer NOT NULL,
    timeout_ms       bigint,
    expires_at       bigint,
    result_ttl_ms    bigint NOT NULL,
    backoff          text,
    worker           text NOT NULL,
    module           text,
    state            text NOT NULL,
    attempts         integer NOT NULL,
    lease_losses     integer NOT NULL,
    token            integer NOT NULL,
    started_at       bigint,
    finished_at      bigint NOT NULL,
    cancel_requested boolean NOT NULL,
    last_error       text,
    result           text,
    delete_at        bigint NOT NULL
  );

  CREATE INDEX finished_delete_at ON ${n.finished} (delete_at);

  CREATE TABLE ${n.events} (
    seq     bigserial PRIMARY KEY,
    task_id text NOT NULL,
    type    text NOT NULL,
    at      bigint NOT NULL,
    queue   text NOT NULL,
    name    text NOT NULL,
    attempt integer NOT NULL,
    error   text,
    run_at  bigint
  );

  CREATE INDEX events_task ON ${n.events} (task_id, seq);
  CREATE INDEX events_at ON ${n.events} USING brin (at) WITH (autosummarize = on);
  `,
  // Version 2: what a store serves besides its own queue. `events_muted`
  // stands in for `events` in the statements of a store opened with
  // `recordEvents: false`: an INSERT through it runs the trigger, which
  // drops the row; reads and deletes through it (an automatically
  // updatable view) see no rows. `result_store` and `event_store` hold the
  // results and events of a queue kept on another backend.
  (n) => `
  CREATE VIEW ${n.eventsMuted} AS SELECT * FROM ${n.events} WHERE false;
  CREATE FUNCTION ${n.schema}.drop_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RETURN NULL; END
  $$;
  CREATE TRIGGER drop_insert INSTEAD OF INSERT ON ${n.eventsMuted}
    FOR EACH ROW EXECUTE FUNCTION ${n.schema}.drop_row();

  CREATE TABLE ${n.resultStore} (
    id         text    NOT NULL,
    token      integer NOT NULL,
    result     text    NOT NULL,
    expires_at bigint  NOT NULL,
    PRIMARY KEY (id, token)
  );
  CREATE INDEX result_store_expiry ON ${n.resultStore} (expires_at);

  CREATE TABLE ${n.eventStore} (
    seq     bigint PRIMARY KEY,
    task_id text   NOT NULL,
    at      bigint NOT NULL,
    event   text   NOT NULL
  );
  CREATE INDEX event_store_task ON ${n.eventStore} (task_id, seq);
  CREATE INDEX event_store_at ON ${n.eventStore} (at);
  `,
  // Version 3: keys, dependencies, flow control and schedules.
  // - `idempotency_key` and `dependencies` (JSON) on both task tables; a
  //   unique index over the keys in `tasks` only. `tasks` holds exactly the
  //   tasks that are not final, so the index says "held by a task not
  //   finished" by itself, and a key comes free the moment its holder moves
  //   to `finished`. It is partial: a task without a key adds no entry.
  // - `blocked` tasks sit in `tasks` under their own state, outside the
  //   partial indexes of claims and expiry.
  // - `queue_controls` holds one row per queue with controls other than the
  //   defaults; a claim locks the rows of its queues and keeps the count of
  //   the current rate window in them (see sql/claim-controlled.ts).
  // - `schedules` keeps the scheduler's records under a version for
  //   compare-and-set.
  // Adding columns without a default rewrites nothing, however big the tables.
  (n) => `
  ALTER TABLE ${n.tasks} ADD COLUMN idempotency_key text, ADD COLUMN dependencies text;
  ALTER TABLE ${n.finished} ADD COLUMN idempotency_key text, ADD COLUMN dependencies text;
  CREATE UNIQUE INDEX tasks_idempotency ON ${n.tasks} (idempotency_key)
    WHERE idempotency_key IS NOT NULL;

  CREATE TABLE ${n.queueControls} (
    queue            text PRIMARY KEY,
    paused           boolean NOT NULL,
    concurrency      integer,
    rate_max         integer,
    rate_interval_ms bigint,
    window_start     bigint  NOT NULL DEFAULT 0,
    window_count     integer NOT NULL DEFAULT 0
  );

  CREATE TABLE ${n.schedules} (
    id      text    PRIMARY KEY,
    version integer NOT NULL,
    data    text    NOT NULL
  );
  `,
  // Version 4: claims that wait (see sql/handover.ts). `offers` holds one
  // row per worker whose last claim found nothing, while it stands: an
  // enqueue of one task its queues could take leases the task to that
  // worker in the same statement. A few rows at most, one per idle worker:
  // no index but the key. `handed` marks a task leased that way until its
  // owner's next claim has seen it; the partial index holds those few.
  (n) => `
  ALTER TABLE ${n.tasks} ADD COLUMN handed boolean NOT NULL DEFAULT false;
  CREATE INDEX tasks_handed ON ${n.tasks} (lease_owner) WHERE handed;

  CREATE TABLE ${n.offers} (
    owner    text   PRIMARY KEY,
    origin   text   NOT NULL,
    queues   text[] NOT NULL,
    workers  text[] NOT NULL,
    lease_ms bigint NOT NULL,
    until    bigint NOT NULL
  );
  `,
];
