// Results in one stream: `<prefix>.result-store.r.<task key>.<token>` holds
// a result, `<prefix>.result-store.x.<minute>` notes saying which results to
// delete when. The server (2.9) has no per-message time-to-live and the
// caller's clock decides, so deletion follows the notes: `purge` reads only
// the minutes that have come. Each note is written before its results, so
// a writer that dies between the two leaves a note about nothing, never a
// result that no note would delete.
import type { ResultStore, StoredResult } from "../stores.js";
import { taskKey } from "./names.js";
import { SideStream } from "./side-stream.js";

const MINUTE_MS = 60_000;

/** [result subject, delete at]. */
type Note = [string, number];

export class NatsResultStore implements ResultStore {
  constructor(private readonly side: SideStream) {}

  async put(results: readonly StoredResult[]): Promise<void> {
    if (results.length === 0) return;
    const byMinute = new Map<number, Note[]>();
    for (const { id, token, expiresAt } of results) {
      const minute = Math.floor(expiresAt / MINUTE_MS);
      byMinute.set(minute, [...(byMinute.get(minute) ?? []), [this.subject(id, token), expiresAt]]);
    }

    await this.side.run("put results", async () => {
      await this.writeNotes(byMinute);
      await Promise.all(
        results.map(({ id, token, result }) =>
          this.side.js.publish(this.subject(id, token), result),
        ),
      );
    });
  }

  get(id: string, token: number): Promise<string | null> {
    return this.side.run("get a result", async () => {
      const message = await this.side.jsm.direct.getMessage(this.side.stream, {
        last_by_subj: this.subject(id, token),
      });
      return message?.string() ?? null;
    });
  }

  purge(now: number): Promise<number> {
    return this.side.run("purge results", async () => {
      const state = await this.side.state(this.noteSubject("*"));
      const due = Object.keys(state.subjects ?? {}).filter((subject) => {
        const minute = Number(subject.slice(subject.lastIndexOf(".") + 1));
        return minute * MINUTE_MS <= now;
      });

      let deleted = 0;
      for (const subject of due) deleted += await this.purgeMinute(subject, now);
      return deleted;
    });
  }

  close(): Promise<void> {
    return this.side.close();
  }

  private async purgeMinute(noteSubject: string, now: number): Promise<number> {
    const seqs: number[] = [];
    const notes: Note[] = [];
    for (let seq = 1; ; ) {
      const message = await this.side.jsm.direct.getMessage(this.side.stream, {
        next_by_subj: noteSubject,
        seq,
      });
      if (!message) break;
      seqs.push(message.seq);
      notes.push(...message.json<Note[]>());
      seq = message.seq + 1;
    }

    const purged = await Promise.all(
      notes
        .filter(([, at]) => at <= now)
        .map(([subject]) => this.side.jsm.streams.purge(this.side.stream, { filter: subject })),
    );

    // Notes not yet due go back as one new note; then the old notes go.
    const later = notes.filter(([, at]) => at > now);
    const first = later[0];
    if (first) await this.writeNotes(new Map([[Math.floor(first[1] / MINUTE_MS), later]]));
    await Promise.all(
      seqs.map((seq) => this.side.jsm.streams.deleteMessage(this.side.stream, seq, false)),
    );
    return purged.reduce((sum, answer) => sum + (answer.purged > 0 ? 1 : 0), 0);
  }

  private async writeNotes(byMinute: ReadonlyMap<number, Note[]>): Promise<void> {
    await Promise.all(
      [...byMinute].map(([minute, notes]) =>
        this.side.js.publish(this.noteSubject(minute), JSON.stringify(notes)),
      ),
    );
  }

  private subject(id: string, token: number): string {
    return `${this.side.subjectBase}.r.${taskKey(id)}.${token}`;
  }

  private noteSubject(minute: number | "*"): string {
    return `${this.side.subjectBase}.x.${minute}`;
  }
}

/** Opens the result store under the prefix of a `nats://` URL. */
export async function openNatsResultStore(url: string): Promise<ResultStore> {
  return new NatsResultStore(await SideStream.open(url, "result-store"));
}
