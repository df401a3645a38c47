/**
 * Logging: pino everywhere. JSON lines (one object per event) for pipelines and `--log-format json`;
 * a compact human line on a terminal. Passwords never reach a log: callers log redacted URLs, and
 * pino's `redact` removes the usual secret fields as a second line of defence.
 */
import { Writable } from "node:stream";
import { type DestinationStream, type Logger, pino } from "pino";

export type LogFormat = "json" | "text";
export type { Logger };

const LEVEL_NAMES: Record<number, string> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};
const HIDDEN = new Set(["level", "time", "msg", "pid", "hostname"]);

/** Renders pino's JSON lines as `12:00:01 WARN message key=value …` for people. */
function textDestination(out: NodeJS.WritableStream): DestinationStream {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        const time = new Date(Number(entry["time"])).toISOString().slice(11, 19);
        const level = (LEVEL_NAMES[Number(entry["level"])] ?? "info").toUpperCase().padEnd(5);
        const extras = Object.entries(entry)
          .filter(([key]) => !HIDDEN.has(key))
          .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
          .join(" ");
        out.write(`${time} ${level} ${String(entry["msg"] ?? "")}${extras ? `  ${extras}` : ""}\n`);
      }
      done();
    },
  });
}

export function createLogger(
  opts: { format?: LogFormat; level?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const out = opts.destination ?? process.stderr;
  const format = opts.format ?? "json";
  return pino(
    {
      level: opts.level ?? process.env["FERRY_LOG_LEVEL"] ?? "info",
      base: null,
      redact: { paths: ["password", "*.password", "url", "*.url"], censor: "[redacted]" },
    },
    format === "text" ? textDestination(out) : (out as DestinationStream),
  );
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
