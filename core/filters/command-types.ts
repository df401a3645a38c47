/**
 * The value type a command works on, for type filters on the command stream (the snapshot knows each
 * key's type; a stream command only says it through its name). Commands on any type (DEL, EXPIRE,
 * RENAME…) are absent: a type filter cannot judge them and lets them through.
 */
import type { ValueTypeName } from "./spec.ts";

/** Space-separated command names (lower case) by value type. */
const BY_TYPE: Readonly<Record<Exclude<ValueTypeName, "module">, string>> = {
  string:
    "set setnx setex psetex getset getdel getex append setrange incr decr incrby decrby " +
    "incrbyfloat mset msetnx setbit bitfield bitop pfadd pfmerge",
  list:
    "lpush rpush lpushx rpushx linsert lset lrem ltrim lpop rpop rpoplpush brpoplpush lmove " +
    "blmove lmpop blmpop blpop brpop",
  set: "sadd srem spop smove sinterstore sunionstore sdiffstore",
  zset:
    "zadd zincrby zrem zremrangebyscore zremrangebyrank zremrangebylex zpopmin zpopmax bzpopmin " +
    "bzpopmax zunionstore zinterstore zdiffstore zrangestore zmpop bzmpop geoadd georadius " +
    "georadiusbymember geosearchstore",
  hash:
    "hset hsetnx hmset hdel hincrby hincrbyfloat hexpire hpexpire hexpireat hpexpireat hpersist " +
    "hgetdel hsetex hgetex",
  stream: "xadd xdel xtrim xsetid xack xclaim xautoclaim xgroup xreadgroup",
};

export const COMMAND_VALUE_TYPE: ReadonlyMap<string, ValueTypeName> = new Map(
  Object.entries(BY_TYPE).flatMap(([type, names]) =>
    names.split(" ").map((name) => [name, type as ValueTypeName] as const),
  ),
);
