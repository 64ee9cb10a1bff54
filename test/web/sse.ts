// A minimal Server-Sent Events reader over fetch, for asserting what a page would receive.
export interface SseEvent {
  event: string;
  data: unknown;
}

export class SseReader {
  private readonly received: SseEvent[] = [];
  private readonly waiting: (() => void)[] = [];
  private read = 0;
  private readonly abort = new AbortController();
  readonly status: Promise<number>;

  constructor(url: string) {
    this.status = this.pump(url);
  }

  /** The next event in arrival order (every stream opens with `reset`). */
  async next(): Promise<SseEvent> {
    for (;;) {
      const event = this.received[this.read];
      if (event) {
        this.read++;
        return event;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  close() {
    this.abort.abort();
  }

  private async pump(url: string): Promise<number> {
    const response = await fetch(url, { signal: this.abort.signal });
    if (!response.body) return response.status;
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            this.push(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch {
        // aborted by close()
      }
    })();
    return response.status;
  }

  private push(block: string) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    this.received.push({ event, data: JSON.parse(data.join('\n')) });
    for (const wake of this.waiting.splice(0)) wake();
  }
}
