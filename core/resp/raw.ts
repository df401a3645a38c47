/**
 * A command's RESP encoding exactly as the source sent it (a replication stream frame), carried
 * next to its argv so the writer can forward it verbatim instead of re-encoding argv — the stream's
 * commands reach the target byte for byte as the master propagated them.
 *
 * Kept off the shared Command contract on purpose: `raw` is an optional extra field that stages
 * which rewrite argv must drop (the filter does), and rawEncoding() refuses a `raw` whose length
 * is not argv's encoded length, which catches a stage that spread a command into a new argv.
 * Never serialized (core/wire encodes argv).
 */
import type { Command } from "../model.ts";
import { encodedLength } from "./encoder.ts";
import { StreamCommand } from "./streamCommand.ts";

export type RawCommand = Command & { raw?: Buffer };

/** `command`'s bytes as received when they still encode its argv, else undefined. */
export function rawEncoding(command: Command): Buffer | undefined {
  const raw = (command as RawCommand).raw;
  if (raw === undefined) return undefined;
  // Nobody asked for its argv, so nobody can have rewritten it: the frame is the command.
  if (command instanceof StreamCommand && command.untouched) return raw;
  return encodedLength(command.argv) === raw.length ? raw : undefined;
}

/** Forget `raw` on a command whose argv was rewritten. */
export function dropRaw(command: Command): void {
  if (command instanceof StreamCommand) command.dropFrame();
  else delete (command as RawCommand).raw;
}
