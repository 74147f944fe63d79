// The files backend: a store is a folder, safe for several processes on one
// machine, with no database and no server. URL: `file:///absolute/dir` or
// `file://./relative/dir`.
//
// Layout
//
//   meta/format.json        the store's format and version
//   meta/lock               the store lock's token (token-lock.ts)
//   meta/counters           next event seq, current event segment, enqueue stamp
//   meta/events.floor       events below this seq are deleted
//   tasks/<id>.json         one record per task, with its result (records.ts)
//   ready/<queue>/<key>     a marker per waiting task; the name sorts in claim order
//   running/<id>            a marker per leased task
//   done/<bucket>/<at>.<id> a marker per finished task, filed by when it may be deleted
//   busy/<id>@<owner>       a marker a process holds while it changes the task
//   staging/<batch>@<owner> the intent of an enqueue in progress
//   gen/<queue>             the names of markers added to a queue, one a line (addition-log.ts)
//   events/<seq>.log        the event log, in segments of JSON lines
//   signals/log             wake-up signals, followed by other processes
//   tmp/                    files being written, renamed into place when whole
//   blocked/<id>            a marker per blocked task: outside `ready/`, so claims never list it
//   keys/<key>              the task holding an idempotency key (keys.ts)
//   controls/<queue>.json   a queue's controls; controls/version is raised by each change
//   active/<queue>/<id>     running tasks of a concurrency-limited queue (flow.ts)
//   rate/<queue>            a rate-limited queue's current window and its claims
//   schedules/<id>.json     a schedule's version and data (schedules.ts)
//   locks/                  the locks of keys, controls, schedules and limited queues (locks.ts)
//
// Ids and queue names are used as file names when they are short and plain
// (lower case letters, digits, `-`, `_`), else replaced by a hash.
//
// How changes stay safe between processes
//
// Every task has one marker, and the folder it is in says where the task
// is. Changing a task starts by renaming its marker into `busy/`: only one
// process's rename succeeds, so one process at a time changes a task, and a
// claim that loses the rename simply moves on to the next task. A worker's
// settle or heartbeat takes the marker from `running/`, which is there only
// while the task runs; the record's token is checked while the marker is
// held, so a stale token can change nothing. A record carries a checksum: a
// reader that overlapped its rewrite reads it again (records.ts).
//
// Events get their seq, and enqueue batches their order, under the one lock
// of the store, held for a few system calls. Idempotency keys, queue
// controls, schedules and the claims of a queue with a concurrency or rate
// limit have locks of their own in `locks/`; everything else needs no lock,
// so a claim from a queue without controls takes none.
// Processes that die (even by kill -9) leave files named after them;
// `maintain` and waiting steps check whether that process still runs (pid,
// start time and pid namespace) and take over.
//
// What "atomic" means for a batch enqueue
//
// After `enqueue` returns, every task of the batch is stored; after it
// throws (a duplicate id), none is, and no event was written. No task of a
// batch can be claimed before all of its records exist. While the call
// runs, a reader listing records may see some of them early. If the process
// dies mid-batch, the next `maintain` undoes the batch when it died before
// its commit point (every record written) and finishes it after.
//
// Limits
//
// - Local file systems only: network file systems do not make rename and
//   append atomic between machines.
// - What a dead process left is taken over only by a process of the same
//   pid namespace: containers sharing a store folder each clean up their own.
// - Files are not fsynced: the store survives a killed process, not a power
//   cut or an operating system crash.
// - `listTasks`, `countTasks` and `taskEvents` read every record or every
//   live event: fine for thousands, slow for millions.
// - Signals reach other processes through `fs.watch`; where it does not work
//   they are silent and workers poll.
export { type FileStorageOptions, openFileStorage } from "./open.js";
export { fileRootFromUrl } from "./url.js";
