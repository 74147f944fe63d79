// When a schedule fires: a cron expression (with an optional seconds field
// and a time zone) read by cron-parser, or a fixed interval counted from the
// schedule's start.
import { CronExpressionParser } from "cron-parser";
import { InvalidArgumentError } from "../errors.js";

/** What makes a schedule fire, as stored. */
export type Trigger =
  | { type: "cron"; expression: string; timezone: string | null }
  | { type: "interval"; everyMs: number; startAt: number };

/** The first time the trigger fires strictly after `after` (ms since the epoch). */
export function nextFiring(trigger: Trigger, after: number): number {
  if (trigger.type === "interval") {
    const { everyMs, startAt } = trigger;
    if (after < startAt) return startAt;
    return startAt + (Math.floor((after - startAt) / everyMs) + 1) * everyMs;
  }

  const expression = CronExpressionParser.parse(trigger.expression, {
    currentDate: after,
    ...(trigger.timezone === null ? {} : { tz: trigger.timezone }),
  });
  return expression.next().getTime();
}

/**
 * Checks a cron expression and time zone by parsing them once, so a bad one
 * is refused when the schedule is made, not when it would first fire.
 */
export function checkCron(expression: string, timezone: string | null, where: string): void {
  if (timezone !== null && !isTimeZone(timezone)) {
    throw new InvalidArgumentError(
      `${where} timezone: ${JSON.stringify(timezone)} is not a time zone; use an IANA name such as "Europe/Paris"`,
    );
  }
  try {
    CronExpressionParser.parse(expression, timezone === null ? {} : { tz: timezone });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidArgumentError(
      `${where} cron: ${JSON.stringify(expression)} is not a cron expression (${reason}); ` +
        `use five fields (minute hour day month weekday) or six with seconds first, such as "*/10 * * * * *"`,
    );
  }
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
