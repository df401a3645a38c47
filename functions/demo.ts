/**
 * `npm run demo`: the README's first quick-start command. Starts two throwaway redis-server processes
 * on free ports, fills the source with every data type, then runs the real `ferry sync` (with a
 * live write load during the snapshot) until synced, and `ferry verify` to prove the copy is equal.
 * Everything lives in a temp dir that is removed at the end.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

const ferry = new URL("../bin/ferry.mjs", import.meta.url).pathname;
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), "ferry-demo-"));
const cleanup = () => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
};
process.on("exit", cleanup);
process.on("SIGINT", () => process.exit(130));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function startServer(name: string): Promise<{ port: number; url: string; client: Redis }> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--dbfilename",
      `${name}.rdb`,
      "--save",
      "",
      "--repl-diskless-sync-delay",
      "0",
    ],
    { stdio: "ignore" },
  );
  children.push(child);
  const client = new Redis({ port, retryStrategy: (n) => (n > 50 ? null : 100) });
  client.on("error", () => {}); // connection refused until the server is up: retried
  await client.ping();
  return { port, url: `redis://127.0.0.1:${port}`, client };
}

async function fill(client: Redis, keys: number): Promise<void> {
  for (let start = 0; start < keys; start += 1000) {
    const p = client.pipeline();
    for (let i = start; i < Math.min(keys, start + 1000); i++) {
      switch (i % 6) {
        case 0:
          p.set(`user:${i}`, `{"id":${i},"name":"user ${i}"}`);
          break;
        case 1:
          p.hset(`profile:${i}`, { name: `n${i}`, visits: String(i), plan: i % 2 ? "pro" : "free" });
          break;
        case 2:
          p.rpush(`events:${i}`, "login", "view", "logout");
          break;
        case 3:
          p.sadd(`tags:${i}`, "a", "b", String(i));
          break;
        case 4:
          p.zadd("leaderboard", i, `player:${i}`);
          break;
        default:
          p.set(`session:${i}`, "token", "EX", 3600);
      }
    }
    p.xadd("audit", "*", "batch", String(start));
    await p.exec();
  }
}

/** Runs `ferry <args>` and resolves with its exit code. Not spawnSync: the write load must keep running. */
function run(args: string[]): Promise<number> {
  process.stdout.write(`\n$ ferry ${args.join(" ")}\n`);
  const child = spawn(process.execPath, [ferry, ...args], { stdio: "inherit" });
  children.push(child);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
}

if (spawnSync("redis-server", ["--version"]).status !== 0) {
  process.stderr.write(
    "the demo needs redis-server: sudo apt-get install -y redis-server (or brew install redis)\n",
  );
  process.exit(1);
}
const source = await startServer("source");
const target = await startServer("target");
process.stdout.write(
  `source ${source.url}  →  target ${target.url}\nfilling the source with 60,000 keys of every type…\n`,
);
await fill(source.client, 60_000);

// A live write load while ferry copies: the point of ferry is that the source keeps serving.
let writing = true;
const load = (async () => {
  for (let n = 0; writing; n++) {
    await source.client.pipeline().incr("demo:counter").lpush("demo:recent", String(n)).exec();
  }
})();
/** `ferry sync` of the demo job until the target has caught up. */
const syncUntilCaughtUp = (...extra: string[]): Promise<number> =>
  run(["sync", "--source", source.url, "--target", target.url, "--until-synced", "--job", "demo", ...extra]);
const syncStatus = await syncUntilCaughtUp();
writing = false;
await load;
// The writes after the snapshot are already streamed; one more short run catches the last ones.
const tail = await syncUntilCaughtUp("--cleanup");
const verify = await run(["verify", "--source", source.url, "--target", target.url]);
source.client.disconnect();
target.client.disconnect();
process.stdout.write(
  syncStatus === 0 && tail === 0 && verify === 0
    ? "\ndemo done: the target equals the source (the second run resumed from the markers, no new snapshot).\n"
    : "\ndemo failed: see the messages above.\n",
);
// exit() rather than exitCode: the redis-server children would keep the event loop alive forever;
// the exit handler stops them and removes the temp dir.
process.exit(syncStatus || tail || verify);
