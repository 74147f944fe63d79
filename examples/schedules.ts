// A schedule enqueues its task at every tick, once however many workers
// run; it can be paused, resumed and deleted, and each change is an event.
import { OmniQ } from "omniq";
import { report } from "./tasks.js";

await using omniq = await OmniQ.open({ storage: "sqlite://./.omniq/schedules.db" });

// Cron with seconds (every second here) in a time zone; `interval: "5m"` works too.
const id = await omniq.schedule(
  report,
  { id: "sales-report", cron: "* * * * * *", timezone: "Europe/Paris" },
  "sales",
);

// Wait for three ticks' tasks to complete.
const done = new Set<string>();
await new Promise<void>((resolve) => {
  void omniq.subscribe((event) => {
    if (event.type === "completed" && event.taskId.startsWith(`${id}@`)) done.add(event.taskId);
    if (done.size === 3) resolve();
  });
});
console.log(
  `fired ${done.size} times; latest: ${await omniq.getScheduleResult(id)}`.replace(
    /\d{4}-.*Z/,
    "<time>",
  ),
);

await omniq.pauseSchedule(id);
const [listed] = await omniq.listSchedules();
console.log(`${listed?.id}: ${listed?.paused ? "paused" : "active"}`);

await omniq.deleteSchedule(id);
const history = await omniq.taskEvents(id);
console.log(history.map((event) => event.type).join(", "));
