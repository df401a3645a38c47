/**
 * Streams: entries in XRANGE pages, then the metadata RESTORE/XSETID carry (last id, entries added,
 * max deleted id), consumer groups (last delivered id, entries read, PEL size), consumers and their
 * pending entries (XPENDING pages). Idle/seen times are left out: they tick on their own.
 */
import { call } from "./sides.ts";
import type { CompareContext, Verdict } from "./values.ts";

function fields(reply: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  const arr = Array.isArray(reply) ? reply : [];
  for (let i = 0; i + 1 < arr.length; i += 2) map.set(String(arr[i]), arr[i + 1]);
  return map;
}

const str = (v: unknown) => (v === null || v === undefined ? "" : String(v));

export async function compareStream(ctx: CompareContext, fast: boolean): Promise<Verdict> {
  const [la, lb] = await Promise.all([call(ctx.source, "XLEN", ctx.key), call(ctx.target, "XLEN", ctx.key)]);
  if (Number(la) !== Number(lb)) return `stream length ${la} on source, ${lb} on target`;
  const [ia, ib] = (
    await Promise.all([
      call(ctx.source, "XINFO", "STREAM", ctx.key),
      call(ctx.target, "XINFO", "STREAM", ctx.key),
    ])
  ).map(fields) as [Map<string, unknown>, Map<string, unknown>];
  for (const name of ["last-generated-id", "max-deleted-entry-id", "entries-added"]) {
    if (ia.has(name) && ib.has(name) && str(ia.get(name)) !== str(ib.get(name))) {
      return `stream ${name} ${str(ia.get(name))} on source, ${str(ib.get(name))} on target`;
    }
  }
  const groups = await compareGroups(ctx, fast);
  if (groups || fast) return groups;
  return compareEntries(ctx, Number(la));
}

async function compareEntries(ctx: CompareContext, length: number): Promise<Verdict> {
  let start = "-";
  for (let seen = 0; seen < length; ) {
    const [a, b] = (await Promise.all([
      call(ctx.source, "XRANGE", ctx.key, start, "+", "COUNT", ctx.pageSize),
      call(ctx.target, "XRANGE", ctx.key, start, "+", "COUNT", ctx.pageSize),
    ])) as [Array<[Buffer, Buffer[]]>, Array<[Buffer, Buffer[]]>];
    const held = a.length + b.length;
    ctx.meter.hold(held);
    try {
      if (a.length === 0) return null;
      for (let i = 0; i < a.length; i++) {
        const [idA, fa] = a[i]!;
        const entry = b[i];
        if (!entry || !idA.equals(entry[0]))
          return `stream entry ${idA} missing on target (target has ${entry?.[0] ?? "nothing"} there)`;
        const fb = entry[1];
        if (fa.length !== fb.length || fa.some((f, j) => !f.equals(fb[j]!)))
          return `stream entry ${idA} fields differ`;
      }
      seen += a.length;
      // Exclusive range start (Redis 6.2+): continue after the last id of this page.
      start = `(${a.at(-1)![0]}`;
    } finally {
      ctx.meter.release(held);
    }
  }
  return null;
}

async function compareGroups(ctx: CompareContext, fast: boolean): Promise<Verdict> {
  const [ga, gb] = (await Promise.all([
    call(ctx.source, "XINFO", "GROUPS", ctx.key),
    call(ctx.target, "XINFO", "GROUPS", ctx.key),
  ])) as [unknown[], unknown[]];
  const target = new Map(gb.map((g) => fields(g)).map((g) => [str(g.get("name")), g]));
  if (ga.length !== gb.length)
    return `stream has ${ga.length} consumer group(s) on source, ${gb.length} on target`;
  for (const g of ga.map(fields)) {
    const name = str(g.get("name"));
    const other = target.get(name);
    if (!other) return `stream group ${name} missing on target`;
    for (const field of ["last-delivered-id", "entries-read", "pending", "consumers"]) {
      if (g.has(field) && other.has(field) && str(g.get(field)) !== str(other.get(field))) {
        return `stream group ${name} ${field} ${str(g.get(field))} on source, ${str(other.get(field))} on target`;
      }
    }
    if (fast) continue;
    const consumers = await compareConsumers(ctx, name);
    if (consumers) return consumers;
    const pending = await comparePending(ctx, name);
    if (pending) return pending;
  }
  return null;
}

async function compareConsumers(ctx: CompareContext, group: string): Promise<Verdict> {
  const [ca, cb] = (await Promise.all([
    call(ctx.source, "XINFO", "CONSUMERS", ctx.key, group),
    call(ctx.target, "XINFO", "CONSUMERS", ctx.key, group),
  ])) as [unknown[], unknown[]];
  const summary = (list: unknown[]) =>
    list
      .map(fields)
      .map((c) => `${str(c.get("name"))}:${str(c.get("pending"))}`)
      .sort()
      .join(",");
  const [sa, sb] = [summary(ca), summary(cb)];
  return sa === sb ? null : `stream group ${group} consumers (name:pending) ${sa} on source, ${sb} on target`;
}

async function comparePending(ctx: CompareContext, group: string): Promise<Verdict> {
  let start = "-";
  for (;;) {
    const [a, b] = (await Promise.all([
      call(ctx.source, "XPENDING", ctx.key, group, start, "+", ctx.pageSize),
      call(ctx.target, "XPENDING", ctx.key, group, start, "+", ctx.pageSize),
    ])) as [unknown[][], unknown[][]];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const [x, y] = [a[i], b[i]];
      // [id, consumer, idle ms, delivery count]: idle time moves by itself, the rest must match.
      if (!x || !y || str(x[0]) !== str(y[0]) || str(x[1]) !== str(y[1]) || str(x[3]) !== str(y[3])) {
        const id = str((x ?? y)?.[0]);
        return `stream group ${group} pending entry ${id} differs (id/consumer/deliveries)`;
      }
    }
    if (a.length < ctx.pageSize) return null;
    start = `(${str(a.at(-1)![0])}`;
  }
}
