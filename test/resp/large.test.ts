import { describe, expect, it } from "vitest";
import { RespDecoder } from "../../core/resp/decoder.ts";
import { NEED_MORE } from "../../core/resp/types.ts";

const CHUNK = 64 * 1024;

/** Feeds `wire` in 64 KiB chunks, calling next() after each as a socket reader would. */
function feed(wire: Buffer, decoder: RespDecoder): { frames: unknown[]; ms: number } {
  const frames: unknown[] = [];
  const started = performance.now();
  for (let pos = 0; pos < wire.length; pos += CHUNK) {
    decoder.push(wire.subarray(pos, pos + CHUNK));
    for (let frame = decoder.next(); frame !== NEED_MORE; frame = decoder.next()) frames.push(frame.value);
  }
  return { frames, ms: performance.now() - started };
}

describe("large frames", () => {
  it("decodes a 65 MiB bulk string fed in 64 KiB chunks without quadratic copying", () => {
    const size = 65 * 1024 * 1024;
    const body = Buffer.alloc(size, 0x61);
    body.write("start", 0);
    body.write("end", size - 3);
    const wire = Buffer.concat([Buffer.from(`$${size}\r\n`), body, Buffer.from("\r\n:7\r\n")]);
    const decoder = new RespDecoder();
    const { frames, ms } = feed(wire, decoder);
    expect(frames).toHaveLength(2);
    const value = frames[0] as Buffer;
    expect(value.length).toBe(size);
    expect(value.subarray(0, 5).toString()).toBe("start");
    expect(value.subarray(size - 3).toString()).toBe("end");
    expect(frames[1]).toBe(7);
    // One join of ~1040 chunks: well under a second. Re-joining on every chunk (quadratic) would copy
    // ~34 GiB and take tens of seconds.
    console.log(`65 MiB bulk in 64 KiB chunks: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(3000);
  });

  it("decodes an array of 300k elements arriving in small chunks without re-parsing it", () => {
    const count = 300_000;
    const parts = [Buffer.from(`*${count}\r\n`)];
    for (let i = 0; i < count; i++) parts.push(Buffer.from(`$6\r\n${String(i).padStart(6, "0")}\r\n`));
    const wire = Buffer.concat(parts);
    const { frames, ms } = feed(wire, new RespDecoder());
    const items = frames[0] as Buffer[];
    expect(items).toHaveLength(count);
    expect(items[123_456]?.toString()).toBe("123456");
    console.log(
      `${count}-element array (${(wire.length / 1e6).toFixed(1)} MB) in 64 KiB chunks: ${ms.toFixed(0)} ms`,
    );
    expect(ms).toBeLessThan(3000);
  });
});
