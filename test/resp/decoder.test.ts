import { describe, expect, it } from "vitest";
import { RespDecoder } from "../../core/resp/decoder.ts";
import { NEED_MORE, type RespFrame } from "../../core/resp/types.ts";
import { FRAME_CASES } from "./cases.ts";

/** Feeds `wire` cut at `cuts` and collects every frame decoded along the way. */
function decodeChunks(wire: Buffer, cuts: number[]): RespFrame[] {
  const decoder = new RespDecoder();
  const frames: RespFrame[] = [];
  let from = 0;
  for (const to of [...cuts, wire.length]) {
    decoder.push(wire.subarray(from, to));
    from = to;
    for (let frame = decoder.next(); frame !== NEED_MORE; frame = decoder.next()) frames.push(frame);
  }
  expect(decoder.buffered).toBe(0);
  expect(decoder.offset).toBe(wire.length);
  return frames;
}

const expectFrame = (frame: RespFrame | undefined, c: (typeof FRAME_CASES)[number]) => {
  expect(frame?.value).toEqual(c.value);
  expect(frame?.bytes).toBe(c.wire.length);
  expect(frame?.attributes).toEqual(c.attributes);
};

describe("RespDecoder: every frame type", () => {
  for (const c of FRAME_CASES) {
    it(`${c.name}: one chunk, byte by byte, and split at every position`, () => {
      const whole = decodeChunks(c.wire, []);
      expect(whole).toHaveLength(1);
      expectFrame(whole[0], c);

      const bytewise = decodeChunks(
        c.wire,
        Array.from({ length: c.wire.length - 1 }, (_, i) => i + 1),
      );
      expect(bytewise).toHaveLength(1);
      expectFrame(bytewise[0], c);

      for (let cut = 1; cut < c.wire.length; cut++) {
        const split = decodeChunks(c.wire, [cut]);
        expect(split).toHaveLength(1);
        expectFrame(split[0], c);
      }
    });
  }

  it("decodes all samples back to back, split at every position, with exact byte counts", () => {
    const wire = Buffer.concat(FRAME_CASES.map((c) => c.wire));
    for (let cut = 0; cut <= wire.length; cut++) {
      const frames = decodeChunks(wire, [cut]);
      expect(frames).toHaveLength(FRAME_CASES.length);
      for (const [i, frame] of frames.entries()) expectFrame(frame, FRAME_CASES[i]!);
    }
  });

  it("returns bulk strings as views of the received chunk, not copies", () => {
    const chunk = Buffer.from("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
    const decoder = new RespDecoder();
    decoder.push(chunk);
    const frame = decoder.next();
    if (frame === NEED_MORE) throw new Error("expected a frame");
    const [, key] = frame.value as Buffer[];
    expect(key?.buffer).toBe(chunk.buffer);
    key![0] = 0x4b;
    expect(chunk.toString()).toContain("Key");
  });
});

describe("RespDecoder: raw mode for an embedded payload", () => {
  it("hands out raw bytes, lines and keepalives between frames", () => {
    const decoder = new RespDecoder();
    const payload = Buffer.from([0x52, 0x45, 0x44, 0x0d, 0x0a, 0x00, 0xff]);
    const wire = Buffer.concat([
      Buffer.from("+FULLRESYNC abc 10\r\n\n\n$7\r\n"),
      payload,
      Buffer.from("*1\r\n$4\r\nPING\r\n"),
    ]);
    for (let i = 0; i < wire.length; i += 3) decoder.push(wire.subarray(i, i + 3));
    const reply = decoder.next();
    expect(reply !== NEED_MORE && reply.value).toMatchObject({ value: "FULLRESYNC abc 10" });
    expect(decoder.peekByte()).toBe(0x0a);
    decoder.skip(2);
    expect(decoder.readLine()).toEqual(Buffer.from("$7"));
    const raw: Buffer[] = [];
    let rest = 7;
    while (rest > 0) {
      const view = decoder.peekRaw()!;
      const take = Math.min(rest, view.length);
      raw.push(Buffer.from(view.subarray(0, take)));
      decoder.skip(take);
      rest -= take;
    }
    expect(Buffer.concat(raw)).toEqual(payload);
    const ping = decoder.next();
    expect(ping !== NEED_MORE && ping.value).toEqual([Buffer.from("PING")]);
    expect(ping !== NEED_MORE && ping.bytes).toBe(14);
    expect(decoder.offset).toBe(wire.length);
  });

  it("refuses raw access in the middle of a frame", () => {
    const decoder = new RespDecoder();
    decoder.push(Buffer.from("*2\r\n$1\r\na\r\n"));
    expect(decoder.next()).toBe(NEED_MORE);
    expect(() => decoder.peekRaw()).toThrow(/middle of a frame/);
  });
});
