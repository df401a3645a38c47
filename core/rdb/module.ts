import { FatalError } from "../errors.ts";
import { MODULE_OPCODE } from "./constants.ts";
import type { ParseContext } from "./context.ts";
import type { ByteInput, Need } from "./input.ts";
import { readString, tryString } from "./strings.ts";
import type { KeyMeta } from "./types.ts";

/**
 * Module values (type 7, MODULE_2) and module AUX data: a 64-bit module id, then a sequence of
 * typed opcodes (RDB_MODULE_OPCODE_*) ending with EOF, which lets a reader without the module skip
 * them exactly as rdbLoadCheckModuleValue does.
 */

/** moduleTypeNameByID (module.c): 9 chars of 6 bits each, above a 10-bit encoding version. */
const MODULE_NAME_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

export function moduleNameFromId(id: bigint): string {
  let rest = id >> 10n;
  const chars: string[] = [];
  for (let i = 0; i < 9; i++) {
    chars.unshift(MODULE_NAME_CHARSET[Number(rest & 63n)]!);
    rest >>= 6n;
  }
  return chars.join("");
}

export function moduleEncodingVersion(id: bigint): number {
  return Number(id & 1023n);
}

/** Skips the opcodes up to and including the module EOF. */
export function* skipModuleOpcodes(inp: ByteInput): Need<void> {
  for (;;) {
    const op = yield* inp.readLen();
    switch (op) {
      case MODULE_OPCODE.EOF:
        return;
      case MODULE_OPCODE.SINT:
      case MODULE_OPCODE.UINT:
        yield* inp.readLenBig();
        break;
      case MODULE_OPCODE.FLOAT:
        yield* inp.ensure(4);
        inp.pos += 4;
        break;
      case MODULE_OPCODE.DOUBLE:
        yield* inp.ensure(8);
        inp.pos += 8;
        break;
      case MODULE_OPCODE.STRING:
        if (tryString(inp) === null) yield* readString(inp);
        break;
      default:
        throw inp.error(`unknown module opcode ${op}`);
    }
  }
}

export function* readModuleValue(ctx: ParseContext, meta: KeyMeta, start: number): Need<void> {
  const inp = ctx.inp;
  const moduleId = yield* inp.readLenBig();
  const moduleName = moduleNameFromId(moduleId);
  if (ctx.modules === "fail")
    throw new FatalError(
      `key ${JSON.stringify(meta.key.toString("latin1"))} holds a value of module ${moduleName}, which ferry cannot rewrite`,
      `Load module ${moduleName} on the target and run with modules = "capture" to pass it through with RESTORE, or drop the key at the source.`,
    );
  yield* skipModuleOpcodes(inp);
  if (ctx.captureRaw && inp.offset - start > ctx.bigKeyThreshold)
    throw new FatalError(
      `module value of key ${JSON.stringify(meta.key.toString("latin1"))} (${moduleName}) is ${inp.offset - start} bytes, above the big-key threshold`,
      "Module values can only be copied whole with RESTORE: raise bigKeyThreshold above this size.",
    );
  const value = { type: "module" as const, moduleName, moduleId };
  ctx.emit(
    ctx.captureRaw
      ? { kind: "key", meta, value, raw: inp.copyRange(start, inp.offset) }
      : { kind: "key", meta, value },
  );
}
