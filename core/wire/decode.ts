import { gunzipSync } from "node:zlib";
import { FatalError } from "../errors.ts";
import type { Batch, Command } from "../model.ts";
import { COMMAND_FLAGS, FLAGS, KINDS_BY_CODE, OPTIONAL_FIELDS, WIRE_MAGIC, WIRE_VERSION } from "./format.ts";
import { Reader } from "./varint.ts";

const DLQ_ADVICE = "move the message to the dead-letter queue and resync the shard";

/** Decodes one message body produced by encodeBatch. Throws FatalError on anything malformed. */
export function decodeBatch(body: string): Batch {
  const raw = Buffer.from(body, "base64");
  if (raw.length < 4 || raw[0] !== WIRE_MAGIC[0] || raw[1] !== WIRE_MAGIC[1]) {
    throw new FatalError("message is not a ferry batch (bad magic)", DLQ_ADVICE);
  }
  const version = raw[2]!;
  if (version !== WIRE_VERSION) {
    throw new FatalError(
      `batch message has wire version ${version}; this writer reads version ${WIRE_VERSION}`,
      "deploy the same ferry version for the replicator and the writer",
    );
  }
  const flags = raw[3]!;
  if ((flags & ~FLAGS.gzip) !== 0)
    throw new FatalError(`batch message has unknown flags ${flags}`, DLQ_ADVICE);
  let payload = raw.subarray(4);
  if (flags & FLAGS.gzip) {
    try {
      payload = gunzipSync(payload);
    } catch (err) {
      throw new FatalError("batch message has a corrupt gzip payload", DLQ_ADVICE, { cause: err });
    }
  }
  return readPayload(new Reader(payload));
}

function readPayload(r: Reader): Batch {
  const job = r.bytes().toString();
  const shard = r.bytes().toString();
  const replid = r.bytes().toString();
  const kind = KINDS_BY_CODE[r.u8()];
  if (kind === undefined) throw new FatalError("batch message has an unknown kind", DLQ_ADVICE);
  const first = r.uvar();
  const last = r.uvar();
  const bytes = r.uvar();
  const optional = r.u8();
  const known = OPTIONAL_FIELDS.snapshotOffset | OPTIONAL_FIELDS.endDb | OPTIONAL_FIELDS.after;
  if ((optional & ~known) !== 0) {
    throw new FatalError(`batch message has unknown optional fields ${optional}`, DLQ_ADVICE);
  }
  const snapshotOffset = optional & OPTIONAL_FIELDS.snapshotOffset ? r.uvar() : undefined;
  const endDb = optional & OPTIONAL_FIELDS.endDb ? r.uvar() : undefined;
  const after = optional & OPTIONAL_FIELDS.after ? r.uvar() : undefined;
  const count = r.uvar();
  const commands: Command[] = [];
  for (let i = 0; i < count; i++) {
    const cflags = r.u8();
    const command: Command = { argv: [], db: 0, offset: r.uvar() };
    command.db = r.uvar();
    if (cflags & COMMAND_FLAGS.seq) command.seq = r.uvar();
    if (cflags & COMMAND_FLAGS.txn) command.txn = r.uvar();
    const argc = r.uvar();
    for (let a = 0; a < argc; a++) command.argv.push(r.bytes());
    commands.push(command);
  }
  if (r.remaining !== 0) throw new FatalError("batch message has trailing bytes", DLQ_ADVICE);
  const batch: Batch = { job, shard, replid, kind, first, last, commands, bytes };
  if (snapshotOffset !== undefined) batch.snapshotOffset = snapshotOffset;
  if (endDb !== undefined) batch.endDb = endDb;
  if (after !== undefined) batch.after = after;
  return batch;
}
