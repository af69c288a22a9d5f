/**
 * Turns a byte stream into text lines. Multi-byte characters split across chunks are decoded
 * correctly, and a line is cut at `maxLineLength` so a process that never prints a newline cannot
 * grow the buffer without bound (the controller refuses longer lines anyway).
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });
  private pending = "";

  constructor(private readonly maxLineLength = 8192) {}

  push(chunk: Uint8Array): string[] {
    return this.split(this.pending + this.decoder.decode(chunk, { stream: true }));
  }

  /** The last unterminated line, once the stream has ended. */
  end(): string[] {
    const rest = this.pending + this.decoder.decode();
    this.pending = "";
    return rest === "" ? [] : [rest];
  }

  private split(text: string): string[] {
    const lines = text.split("\n");
    let tail = lines.pop() ?? "";
    const complete: string[] = [];
    for (const line of lines) complete.push(...this.cut(line));
    while (tail.length > this.maxLineLength) {
      complete.push(tail.slice(0, this.maxLineLength));
      tail = tail.slice(this.maxLineLength);
    }
    this.pending = tail;
    return complete;
  }

  private cut(line: string): string[] {
    if (line.length <= this.maxLineLength) return [line];
    const parts: string[] = [];
    for (let i = 0; i < line.length; i += this.maxLineLength)
      parts.push(line.slice(i, i + this.maxLineLength));
    return parts;
  }
}
