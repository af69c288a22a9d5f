/**
 * A real SSE client for the suites and the bench: fetch + a parser for the event-stream format
 * (Bun has no EventSource). Frames and comments are kept in arrival order; `next` waits for the
 * next frame that matches.
 */
export interface SseFrame {
  event: string;
  id?: string;
  data: string;
  /** performance.now() when the frame's last line arrived */
  at: number;
}

export class SseReader {
  readonly frames: SseFrame[] = [];
  comments: string[] = [];
  status = 0;
  private cursor = 0;
  private waiters: Array<() => void> = [];
  private done = false;
  private readonly abort = new AbortController();
  readonly ended: Promise<void>;

  private constructor(private readonly response: Response) {
    this.status = response.status;
    this.ended = this.pump();
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const abort = new AbortController();
    const response = await fetch(url, { headers, signal: abort.signal });
    const reader = new SseReader(response);
    // one controller for the request, kept so close() can drop the connection
    reader.abort.signal.addEventListener("abort", () => abort.abort());
    return reader;
  }

  get contentType(): string | null {
    return this.response.headers.get("content-type");
  }

  get isEnded(): boolean {
    return this.done;
  }

  /** Waits for the next frame (after the last one returned) that matches. */
  async next(match: (f: SseFrame) => boolean = () => true, timeoutMs = 5000): Promise<SseFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const frame = this.frames[this.cursor++]!;
        if (match(frame)) return frame;
      }
      if (this.done) throw new Error(`stream ended while waiting; got ${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms; got ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next `count` frames of `event: message`, parsed. */
  async messages(count: number, timeoutMs = 5000): Promise<Array<Record<string, unknown>>> {
    const out: Array<Record<string, unknown>> = [];
    while (out.length < count) {
      const frame = await this.next((f) => f.event === "message", timeoutMs);
      out.push(JSON.parse(frame.data) as Record<string, unknown>);
    }
    return out;
  }

  close(): void {
    this.abort.abort();
  }

  private describe(): string {
    return JSON.stringify(this.frames.map((f) => `${f.event}#${f.id ?? ""}`).slice(-10));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async pump(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    let frame: { event?: string; id?: string; data: string[] } = { data: [] };
    try {
      const body = this.response.body;
      if (!body) return;
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline = buffer.indexOf("\n");
        while (newline >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, "");
          buffer = buffer.slice(newline + 1);
          if (line === "") {
            if (frame.data.length > 0 || frame.event) {
              this.frames.push({
                event: frame.event ?? "message",
                ...(frame.id !== undefined ? { id: frame.id } : {}),
                data: frame.data.join("\n"),
                at: performance.now(),
              });
            }
            frame = { data: [] };
          } else if (line.startsWith(":")) {
            this.comments.push(line.slice(1).trim());
          } else {
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "event") frame.event = value;
            else if (field === "id") frame.id = value;
            else if (field === "data") frame.data.push(value);
          }
          newline = buffer.indexOf("\n");
        }
        this.wake();
      }
    } catch {
      // aborted or reset: the stream is over either way
    } finally {
      this.done = true;
      this.wake();
    }
  }
}
