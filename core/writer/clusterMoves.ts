/**
 * Two-key commands whose keys land in different slots of a cluster target cannot run as one command
 * (CROSSSLOT). Each rule below rewrites one into a write on the destination slot, computed from a
 * read of the source key, then a write on the source slot. Destination first, source second: a
 * crash in between leaves the source intact, so the replay (filtered per slot by the markers) redoes
 * only the missing half. SMOVE needs no read (SREM + SADD of the same member) and is plain split.
 */
const b = (s: string): Buffer => Buffer.from(s);

export interface MoveRule {
  /** Commands to run on the source key's node (argv without the key at [1] filled in). */
  read(src: Buffer, argv: readonly Buffer[]): Buffer[][];
  /** Destination write from the read replies; null when the source is gone (nothing to copy). */
  dst(dst: Buffer, replies: readonly unknown[], argv: readonly Buffer[]): Buffer[] | null;
  /** Source write, or null (COPY leaves the source alone). */
  src(src: Buffer, argv: readonly Buffer[]): Buffer[] | null;
}

const upper = (arg: Buffer | undefined): string => (arg?.toString("latin1") ?? "").toUpperCase();

/** DUMP + PTTL → RESTORE <dst> <ttl> <payload> [REPLACE]. PTTL -1 = no expiry (RESTORE ttl 0). */
function restoreFrom(dst: Buffer, replies: readonly unknown[], replace: boolean): Buffer[] | null {
  const [payload, pttl] = replies;
  if (!Buffer.isBuffer(payload)) return null;
  const ttl = Number(pttl ?? -1);
  const argv = [b("RESTORE"), dst, b(String(Math.max(ttl, 0))), payload];
  if (replace) argv.push(b("REPLACE"));
  return argv;
}

const dumpRead = (src: Buffer): Buffer[][] => [
  [b("DUMP"), src],
  [b("PTTL"), src],
];

/** LMOVE src dst <LEFT|RIGHT> <LEFT|RIGHT>; RPOPLPUSH = RIGHT LEFT. The element is peeked with LINDEX. */
function listMove(fromArg: (argv: readonly Buffer[]) => string, toArg: (argv: readonly Buffer[]) => string) {
  return {
    read: (src: Buffer, argv: readonly Buffer[]) => [
      [b("LINDEX"), src, b(fromArg(argv) === "LEFT" ? "0" : "-1")],
    ],
    dst: (dst: Buffer, replies: readonly unknown[], argv: readonly Buffer[]) => {
      const value = replies[0];
      if (!Buffer.isBuffer(value)) return null;
      return [b(toArg(argv) === "LEFT" ? "LPUSH" : "RPUSH"), dst, value];
    },
    src: (src: Buffer, argv: readonly Buffer[]) => [b(fromArg(argv) === "LEFT" ? "LPOP" : "RPOP"), src],
  } satisfies MoveRule;
}

const renameRule: MoveRule = {
  read: dumpRead,
  dst: (dst, replies) => restoreFrom(dst, replies, true),
  src: (src) => [b("DEL"), src],
};

export const MOVE_RULES: Readonly<Record<string, MoveRule>> = {
  rename: renameRule,
  // RENAMENX is only propagated when it renamed, i.e. the destination did not exist on the source.
  renamenx: renameRule,
  copy: {
    read: dumpRead,
    dst: (dst, replies, argv) =>
      restoreFrom(
        dst,
        replies,
        argv.slice(3).some((a) => upper(a) === "REPLACE"),
      ),
    src: () => null,
  },
  lmove: listMove(
    (argv) => upper(argv[3]),
    (argv) => upper(argv[4]),
  ),
  blmove: listMove(
    (argv) => upper(argv[3]),
    (argv) => upper(argv[4]),
  ),
  rpoplpush: listMove(
    () => "RIGHT",
    () => "LEFT",
  ),
  brpoplpush: listMove(
    () => "RIGHT",
    () => "LEFT",
  ),
};
