import { describe, expect, it } from "vitest";
import type { Batch, Command } from "../../core/model.ts";
import { Batcher } from "../../core/pipeline/batcher.ts";
import {
  batchWeight,
  COMMAND_OVERHEAD_BYTES,
  commandOverhead,
  STREAM_COMMAND_OVERHEAD_BYTES,
} from "../../core/pipeline/weight.ts";
import { CommandStream } from "../../core/replication/commandStream.ts";
import { RespDecoder } from "../../core/resp/decoder.ts";
import { encodeCommand } from "../../core/resp/encoder.ts";

const REPLID = "w".repeat(40);

/** Stream commands as the replica session makes them: frames kept in the read buffer. */
function streamCommands(count: number): Command[] {
  const bytes = Buffer.concat(Array.from({ length: count }, (_, i) => encodeCommand(["SET", `k${i}`, "v"])));
  const decoder = new RespDecoder();
  decoder.push(bytes);
  const stream = new CommandStream(0, 0);
  const out: Command[] = [];
  while (decoder.scanCommand()) stream.feedScanned(decoder.scanned, out);
  return out;
}

const argvCommand = (i: number): Command => ({
  argv: [Buffer.from("SET"), Buffer.from(`k${i}`), Buffer.from("v")],
  db: 0,
  offset: i + 1,
});

describe("queue weight", () => {
  it("charges a frame-carried stream command less than one with argv", () => {
    const [stream] = streamCommands(1);
    expect(commandOverhead(stream!)).toBe(STREAM_COMMAND_OVERHEAD_BYTES);
    expect(commandOverhead(argvCommand(0))).toBe(COMMAND_OVERHEAD_BYTES);
    // Once a stage replaces its argv, the command no longer rides on its frame: full price.
    stream!.argv = [Buffer.from("SET"), Buffer.from("other"), Buffer.from("v")];
    expect(commandOverhead(stream!)).toBe(COMMAND_OVERHEAD_BYTES);
  });

  it("is bytes plus each command's overhead", () => {
    const commands = [...streamCommands(2), argvCommand(9)];
    const batch = { commands, bytes: 123 } as unknown as Batch;
    expect(batchWeight(batch)).toBe(123 + 2 * STREAM_COMMAND_OVERHEAD_BYTES + COMMAND_OVERHEAD_BYTES);
  });

  it("seals batches by weight, so stream batches stay long where argv batches are cut short", async () => {
    const sent: Batch[] = [];
    const queue = { send: async (b: Batch) => void sent.push(b) };
    const maxWeight = 64 * 1024;
    const batcher = new Batcher({
      job: "j",
      shard: "s",
      queue,
      maxCommands: 3000,
      maxWeight,
      maxAgeMs: 1000,
    });
    await batcher.beginStream(REPLID);
    const frames = streamCommands(1000);
    await batcher.stream(frames, frames.at(-1)!.offset, 0);
    await batcher.flush();
    const streamBatches = sent.splice(0);
    const argv = Array.from({ length: 1000 }, (_, i) => argvCommand(i));
    await batcher.stream(argv, 1000, 0);
    await batcher.close();
    for (const b of [...streamBatches, ...sent]) {
      expect(batchWeight(b)).toBeLessThanOrEqual(maxWeight);
      // The weight the batcher remembered is the one a walk over the commands gives (a copy is
      // not remembered, so it is walked).
      expect(batchWeight({ ...b })).toBe(batchWeight(b));
    }
    // ~64 KiB / (128 + ~30 B) vs / (600 + ~30 B): several times more stream commands per batch.
    expect(streamBatches[0]!.commands.length).toBeGreaterThan(3 * sent[0]!.commands.length);
    expect(streamBatches.reduce((n, b) => n + b.commands.length, 0)).toBe(1000);
    expect(sent.reduce((n, b) => n + b.commands.length, 0)).toBe(1000);
  });
});
