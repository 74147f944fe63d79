// Plain-text tables and values for the inspection commands' output.
import type { TaskEvent } from "../events/types.js";
import type { ScheduleInfo } from "../omniq/schedules.js";
import type { QueueControl, TaskCounts } from "../storage/contract.js";
import type { TaskRecord } from "../task/record.js";
import { TASK_STATES } from "../task/state.js";

/** Rows under a header, each column as wide as its widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

export function time(ms: number | null): string {
  return ms === null ? "-" : new Date(ms).toISOString();
}

/** Counts per queue, one column per state that any queue has, and the queue's controls. */
export function statusTable(counts: TaskCounts, controls: Record<string, QueueControl>): string {
  const queues = [...new Set([...Object.keys(counts), ...Object.keys(controls)])].sort();
  if (queues.length === 0) return "no tasks";

  const states = TASK_STATES.filter((state) => queues.some((q) => counts[q]?.[state]));
  const rows = queues.map((queue) => [
    queue,
    ...states.map((state) => String(counts[queue]?.[state] ?? 0)),
    describeControl(controls[queue]),
  ]);
  return table(["queue", ...states, "controls"], rows);
}

function describeControl(control: QueueControl | undefined): string {
  if (!control) return "-";
  const parts: string[] = [];
  if (control.paused) parts.push("paused");
  if (control.concurrency !== null) parts.push(`concurrency ${control.concurrency}`);
  if (control.rateLimit !== null) {
    parts.push(`rate ${control.rateLimit.max}/${control.rateLimit.intervalMs}ms`);
  }
  return parts.join(", ") || "-";
}

export function tasksTable(tasks: readonly TaskRecord[]): string {
  if (tasks.length === 0) return "no matching tasks";
  const rows = tasks.map((task) => [
    task.id,
    task.name,
    task.queue,
    task.state,
    String(task.attempts),
    time(task.finishedAt ?? task.startedAt ?? task.createdAt),
    task.lastError ? `${task.lastError.name}: ${task.lastError.message}`.slice(0, 60) : "",
  ]);
  return table(["id", "name", "queue", "state", "attempts", "last change", "error"], rows);
}

export function taskDetails(task: TaskRecord, args: string, events: readonly TaskEvent[]): string {
  const fields: [string, string][] = [
    ["id", task.id],
    ["name", task.name],
    ["queue", task.queue],
    ["state", task.state],
    ["priority", String(task.priority)],
    ["attempts", `${task.attempts} of ${task.maxAttempts}`],
    ["arguments", args],
    ["created", time(task.createdAt)],
    ["run at", time(task.runAt)],
    ["started", time(task.startedAt)],
    ["finished", time(task.finishedAt)],
    ["depends on", task.dependencies?.on.join(", ") ?? "-"],
    ["idempotency key", task.idempotencyKey ?? "-"],
    ["last error", task.lastError ? `${task.lastError.name}: ${task.lastError.message}` : "-"],
  ];
  const width = Math.max(...fields.map(([name]) => name.length));
  const lines = fields.map(([name, value]) => `${name.padEnd(width)}  ${value}`);
  const history = events.map(
    (event) => `  ${time(event.at)}  ${event.type}${event.error ? `: ${event.error.message}` : ""}`,
  );
  return [...lines, "events:", ...(history.length ? history : ["  none stored"])].join("\n");
}

export function schedulesTable(schedules: readonly ScheduleInfo[]): string {
  if (schedules.length === 0) return "no schedules";
  const rows = schedules.map((schedule) => [
    schedule.id,
    schedule.name,
    schedule.queue,
    schedule.trigger.type === "cron"
      ? `cron ${schedule.trigger.expression}${schedule.trigger.timezone ? ` (${schedule.trigger.timezone})` : ""}`
      : `every ${schedule.trigger.everyMs}ms`,
    schedule.paused ? "paused" : "active",
    schedule.paused ? "-" : schedule.nextRunAt.toISOString(),
    schedule.lastTaskId ?? "-",
  ]);
  return table(["id", "task", "queue", "when", "state", "next run", "last task"], rows);
}
