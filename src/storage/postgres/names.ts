/**
 * The names a store's SQL uses, already quoted for splicing into statement
 * text. Identifiers cannot be query parameters, so each store builds its SQL
 * once from these; the schema name was checked against a strict pattern
 * (see url.ts), which is what makes splicing it safe.
 */
export interface SqlNames {
  schema: string;
  /** Waiting and running tasks: the small, hot table claims read. */
  tasks: string;
  /** Tasks in a final state, with their results. */
  finished: string;
  events: string;
  /**
   * A view over `events` that reads as empty and drops what is written to
   * it: the statements of a store opened with `recordEvents: false` name it
   * in place of `events` (see sql/migrations.ts).
   */
  eventsMuted: string;
  /** Results of completed tasks, when a queue elsewhere keeps its results here. */
  resultStore: string;
  /** Copies of events, when a queue elsewhere keeps its events here. */
  eventStore: string;
  /** Flow controls of the queues that have any; see sql/claim-controlled.ts. */
  queueControls: string;
  /** The scheduler's records, each under a version. */
  schedules: string;
  /** Claims that found nothing and wait for an enqueue; see sql/handover.ts. */
  offers: string;
  migrations: string;
  /** The LISTEN/NOTIFY channel, as a quoted identifier for LISTEN. */
  channelIdent: string;
  /** The same channel as a string literal, for pg_notify(). */
  channelLiteral: string;
}

export function sqlNames(schema: string): SqlNames {
  const s = `"${schema}"`;
  const channel = `omniq.${schema}`;
  return {
    schema: s,
    tasks: `${s}.tasks`,
    finished: `${s}.finished`,
    events: `${s}.events`,
    eventsMuted: `${s}.events_muted`,
    resultStore: `${s}.result_store`,
    eventStore: `${s}.event_store`,
    queueControls: `${s}.queue_controls`,
    schedules: `${s}.schedules`,
    offers: `${s}.offers`,
    migrations: `${s}.migrations`,
    channelIdent: `"${channel}"`,
    channelLiteral: `'${channel}'`,
  };
}

/** The states a task can be claimed from, as an SQL list; it must match the partial index. */
export const WAITING_SQL = "('scheduled', 'pending', 'retrying')";

/** The states `cancel` ends at once: the waiting ones and `blocked`. */
export const CANCELLABLE_SQL = "('blocked', 'scheduled', 'pending', 'retrying')";
