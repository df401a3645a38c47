/**
 * GET /v1/jobs/{id}/events — Server-Sent Events: first a `snapshot` event (the whole job), then
 * `state` events (the job after each state change) and `progress` events (runner status), with a
 * `heartbeat` event every few seconds so proxies (and API Gateway's idle timeout) keep the stream
 * open and a client notices a dead server. The stream ends after a final state, or when the client
 * goes away (the subscription is released then, not at the next write).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { createRoute } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { JobChange, JobService } from "../jobs/service.ts";
import { isFinal } from "../jobs/stateMachine.ts";
import { JobIdParams, problemResponse } from "./schemas.ts";

const eventsRoute = createRoute({
  method: "get",
  path: "/v1/jobs/{id}/events",
  operationId: "watchJob",
  summary: "Stream a job's state and progress (text/event-stream: snapshot, state, progress, heartbeat)",
  security: [{ bearer: [] }],
  request: { params: JobIdParams },
  responses: {
    200: {
      description: "An event stream; each `data` is JSON",
      content: { "text/event-stream": { schema: z.string() } },
    },
    401: problemResponse("Missing, malformed or unknown API key"),
    404: problemResponse("No such job"),
  },
});

export function registerEventRoutes(app: OpenAPIHono, service: JobService, heartbeatMs: number): void {
  app.openapi(eventsRoute, async (c) => {
    const { id } = c.req.valid("param");
    const first = await service.get(id); // 404 before the stream starts
    return streamSSE(c, async (stream) => {
      let seq = 0;
      const queue: Array<JobChange | { type: "heartbeat" }> = [];
      let wake: (() => void) | null = null;
      const unsubscribe = service.watch(id, (change) => {
        queue.push(change);
        wake?.();
      });
      let open = true;
      stream.onAbort(() => {
        open = false;
        wake?.();
      });
      const heartbeat = setInterval(() => {
        queue.push({ type: "heartbeat" });
        wake?.();
      }, heartbeatMs);
      try {
        await stream.writeSSE({ event: "snapshot", id: String(seq++), data: JSON.stringify(first) });
        if (isFinal(first.state)) return;
        while (open) {
          const change = queue.shift();
          if (!change) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = null;
            continue;
          }
          if (change.type === "heartbeat") {
            await stream.writeSSE({
              event: "heartbeat",
              data: JSON.stringify({ at: new Date().toISOString() }),
            });
            continue;
          }
          const data = change.type === "state" ? change.job : change.status;
          await stream.writeSSE({ event: change.type, id: String(seq++), data: JSON.stringify(data) });
          if (change.type === "state" && isFinal(change.job.state)) break;
        }
      } finally {
        clearInterval(heartbeat);
        unsubscribe();
      }
    });
  });
}
