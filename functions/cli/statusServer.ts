/**
 * `ferry sync --status-port N`: GET /status (JSON snapshot of the job) and GET /metrics (Prometheus),
 * for scripts and scrapers watching a one-process migration.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { Registry } from "prom-client";

export interface StatusServer {
  port: number;
  close(): Promise<void>;
}

export function startStatusServer(opts: {
  port: number;
  host?: string;
  status: () => unknown;
  registry: Registry;
}): Promise<StatusServer> {
  const app = new Hono();
  app.get("/status", (c) => c.json(opts.status() as object));
  app.get("/metrics", async (c) =>
    c.body(await opts.registry.metrics(), 200, { "content-type": opts.registry.contentType }),
  );
  app.get("/healthz", (c) => c.text("ok"));
  return new Promise((resolve) => {
    const server = serve(
      { fetch: app.fetch, port: opts.port, hostname: opts.host ?? "127.0.0.1" },
      (info) => {
        resolve({
          port: (info as AddressInfo).port,
          close: () => new Promise<void>((done) => server.close(() => done())),
        });
      },
    );
  });
}
