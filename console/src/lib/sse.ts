/**
 * A Server-Sent Events reader on fetch(): EventSource cannot send an Authorization header, and the
 * key must not go in the URL. Reconnects with backoff; a stream silent for longer than a few
 * heartbeats (the server sends one every 15 s) is treated as dead, because a dropped TCP
 * connection behind a proxy often never reports an error.
 */
import { type ApiError, toApiError } from "./api.ts";
import { SseParser } from "./sseParser.ts";

export type StreamState =
  | { kind: "connecting" }
  | { kind: "live" }
  | { kind: "retrying"; inSeconds: number; reason: string }
  | { kind: "ended" }
  | { kind: "error"; error: ApiError };

export interface SseHandlers {
  onEvent(type: string, data: string): void;
  onState(state: StreamState): void;
  /** Asked when the server closes the stream: true (the job reached a final state) → no reconnect. */
  finished?(): boolean;
}

export interface SseOptions {
  authorization: string;
  /** No byte for this long → reconnect. Default 45 s (three missed heartbeats). */
  idleMs?: number;
  /** Longest wait between reconnects. Default 15 s. */
  maxBackoffMs?: number;
}

/** Watches `url` until the returned function is called or the server ends the stream for good. */
export function watchSse(url: string, handlers: SseHandlers, opts: SseOptions): () => void {
  const idleMs = opts.idleMs ?? 45_000;
  const maxBackoffMs = opts.maxBackoffMs ?? 15_000;
  let stopped = false;
  let controller: AbortController | null = null;
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const connect = async (): Promise<void> => {
    if (stopped) return;
    controller = new AbortController();
    const abort = controller;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => abort.abort(), idleMs);
    };
    handlers.onState({ kind: "connecting" });
    let reason = "connection lost";
    let ended = false;
    try {
      touch();
      const res = await fetch(url, {
        headers: { authorization: opts.authorization, accept: "text/event-stream" },
        signal: abort.signal,
        cache: "no-store",
      });
      if (!res.ok || !res.body) {
        const error = await toApiError(res);
        // 5xx and gateway errors pass; a bad key or a deleted job will not get better by retrying.
        if (res.status < 500) {
          stopped = true;
          handlers.onState({ kind: "error", error });
          return;
        }
        reason = error.message;
      } else {
        failures = 0;
        handlers.onState({ kind: "live" });
        const parser = new SseParser((type, data) => handlers.onEvent(type, data));
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          touch();
          parser.push(value);
        }
        // The server closes the stream after a final state; anything else is a drop.
        ended = true;
      }
    } catch (err) {
      if (stopped) return;
      reason = abort.signal.aborted ? "no heartbeat from the server" : String((err as Error).message ?? err);
    } finally {
      clearTimeout(idle);
    }
    if (stopped) return;
    if (ended && handlers.finished?.()) {
      stopped = true;
      handlers.onState({ kind: "ended" });
      return;
    }
    if (ended) reason = "the server closed the stream";
    failures++;
    const wait = Math.min(maxBackoffMs, 500 * 2 ** Math.min(failures, 6));
    handlers.onState({ kind: "retrying", inSeconds: Math.ceil(wait / 1000), reason });
    retryTimer = setTimeout(() => void connect(), wait);
  };

  void connect();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    controller?.abort();
  };
}
