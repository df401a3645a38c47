/**
 * A TCP proxy for fault tests: sits between ferry and a redis-server and can cut every connection,
 * refuse new ones for a while (a network partition), stall traffic, or slow it down.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface FaultProxy {
  readonly port: number;
  readonly url: string;
  /** Destroy every open connection (a reset, as a network cut looks from both ends). */
  cut(): void;
  /** Refuse (reset) new connections until heal(); combined with cut() this is a partition. */
  partition(): void;
  heal(): void;
  /** Stop forwarding bytes (connections stay open, data queues up) until unstall(). */
  stall(): void;
  unstall(): void;
  /** Delay every forwarded chunk by `ms` (0 = none). */
  setDelay(ms: number): void;
  /** Connections accepted so far (reconnects show up here). */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startProxy(
  target: { host: string; port: number },
  opts: { password?: string } = {},
): Promise<FaultProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  let stalled = false;
  let delayMs = 0;
  let accepted = 0;
  const stalledPipes: Array<() => void> = [];

  const forward = (from: Socket, to: Socket) => {
    from.on("data", (chunk) => {
      const send = () => {
        if (!to.destroyed) to.write(chunk);
      };
      if (stalled) {
        from.pause();
        stalledPipes.push(() => {
          send();
          from.resume();
        });
      } else if (delayMs > 0) {
        from.pause();
        setTimeout(() => {
          send();
          from.resume();
        }, delayMs);
      } else if (!to.write(chunk)) {
        from.pause();
        to.once("drain", () => from.resume());
      }
    });
  };

  const server: Server = createServer((client) => {
    accepted++;
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
    forward(client, upstream);
    forward(upstream, client);
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const auth = opts.password ? `:${encodeURIComponent(opts.password)}@` : "";

  const proxy: FaultProxy = {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    cut() {
      for (const [client, upstream] of pairs) {
        client.resetAndDestroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    partition() {
      refusing = true;
    },
    heal() {
      refusing = false;
    },
    stall() {
      stalled = true;
    },
    unstall() {
      stalled = false;
      for (const resume of stalledPipes.splice(0)) resume();
    },
    setDelay(ms) {
      delayMs = ms;
    },
    async close() {
      proxy.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
