/**
 * The `text/event-stream` format (WHATWG HTML §9.2): lines end in \r\n, \n or \r; `data:` lines
 * join with \n; a blank line dispatches. Chunks from the network split anywhere, even inside \r\n.
 */
export class SseParser {
  private buffer = "";
  private type = "";
  private data: string[] = [];

  constructor(private readonly emit: (type: string, data: string) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let nl = this.buffer.search(/\r\n|\r|\n/);
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl);
      const width = this.buffer.startsWith("\r\n", nl) ? 2 : 1;
      // A lone \r at the end of a chunk may be the first half of \r\n: wait for more.
      if (this.buffer[nl] === "\r" && nl + 1 === this.buffer.length) break;
      this.buffer = this.buffer.slice(nl + width);
      this.line(line);
      nl = this.buffer.search(/\r\n|\r|\n/);
    }
  }

  private line(line: string): void {
    if (line === "") {
      if (this.data.length > 0) this.emit(this.type || "message", this.data.join("\n"));
      this.type = "";
      this.data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.type = value;
    else if (field === "data") this.data.push(value);
  }
}
