// The sandbox channel's history on disk (STATE_DIR/web-chat.jsonl), so that after a restart the page
// shows the same threads, and their pending approvals still work: the web chat stands in for Slack,
// whose messages outlive the bot. Each change is one appended, flushed line; loading replays them.
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { WebMessage, WebNote } from './channel.ts';

type Entry = { message: WebMessage } | { note: WebNote };

/** Past this many lines the file is rewritten with one line per message and note. */
const COMPACT_AFTER = 5_000;

export class ChannelHistory {
  private readonly file: string;
  private lines = 0;

  constructor(file: string) {
    this.file = file;
    mkdirSync(dirname(file), { recursive: true });
  }

  /** The messages (their latest version) and notes, in the order they were first written. */
  load(): { messages: WebMessage[]; notes: WebNote[] } {
    const messages = new Map<string, WebMessage>();
    const notes: WebNote[] = [];
    if (!existsSync(this.file)) return { messages: [], notes };
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (line === '') continue;
      let entry: Entry;
      try {
        entry = JSON.parse(line) as Entry;
      } catch {
        continue; // a line cut short by a crash
      }
      this.lines++;
      if ('message' in entry) messages.set(entry.message.id, entry.message);
      else notes.push(entry.note);
    }
    const loaded = { messages: [...messages.values()], notes };
    if (this.lines > COMPACT_AFTER) this.compact(loaded);
    return loaded;
  }

  message(message: WebMessage): void {
    this.append({ message });
  }

  note(note: WebNote): void {
    this.append({ note });
  }

  private append(entry: Entry): void {
    const fd = openSync(this.file, 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(entry)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.lines++;
  }

  private compact(state: { messages: WebMessage[]; notes: WebNote[] }): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    const entries: Entry[] = [...state.messages.map((message) => ({ message })), ...state.notes.map((note) => ({ note }))];
    appendFileSync(tmp, entries.map((e) => JSON.stringify(e)).join('\n') + (entries.length ? '\n' : ''), { mode: 0o600 });
    renameSync(tmp, this.file);
    this.lines = entries.length;
  }
}
