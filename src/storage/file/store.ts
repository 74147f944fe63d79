import type { Clock } from "../contract.js";
import { QueueControls } from "./controls.js";
import { EventLog } from "./event-log.js";
import { Layout } from "./layout.js";
import { StoreLocks } from "./locks.js";
import { ReadyIndex } from "./ready-index.js";
import { RecordFiles } from "./records.js";
import { SignalChannel } from "./signals.js";

/** What every operation of one handle works with. */
export class FileStore {
  readonly layout: Layout;
  readonly records: RecordFiles;
  readonly log: EventLog;
  readonly ready: ReadyIndex;
  readonly signals: SignalChannel;
  readonly locks: StoreLocks;
  readonly controls: QueueControls;

  constructor(
    root: string,
    readonly clock: Clock,
    watchOthers: boolean,
    /** False for a handle opened with `recordEvents: false`: its changes write no events. */
    readonly recordEvents = true,
  ) {
    this.layout = new Layout(root);
    this.records = new RecordFiles(this.layout);
    this.log = new EventLog(this.layout);
    this.ready = new ReadyIndex(this.layout);
    this.signals = new SignalChannel(root, this.layout.signals, watchOthers);
    this.locks = new StoreLocks(this.layout.locks);
    this.controls = new QueueControls(this.layout, this.ready);
  }

  close(): void {
    this.signals.close();
    this.ready.close();
    this.log.close();
  }
}
