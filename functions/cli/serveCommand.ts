/** `ferry serve` definition: flags and help (cheap); the job API server is in ./serve.ts. */
import { type Command, Option } from "commander";
import { BadInputError } from "../../core/errors.ts";

export function register(program: Command): void {
  program
    .command("serve")
    .summary("run the job API and web console on this machine")
    .description("Run the job API (create, watch, pause, resume, cut over migrations) on this machine")
    .option("--port <port>", "port to listen on", (v) => portNumber(v), 7070)
    .option("--host <host>", "address to bind (keep 127.0.0.1 unless a TLS proxy fronts ferry)", "127.0.0.1")
    .option("--state-dir <dir>", "where jobs and the API key hash are kept", ".ferry")
    .option("--api-key-file <file>", "API keys, one per line: <key or sha256:HEX> [admin|read]")
    .addOption(
      new Option("--runner <runner>", "embedded: migrate in this process; manual: API only, migrates nothing")
        .choices(["embedded", "manual"])
        .default("embedded"),
    )
    .action(
      async (o: {
        port: number;
        host: string;
        stateDir: string;
        apiKeyFile?: string;
        runner: "embedded" | "manual";
      }) => {
        // hono, @hono/zod-openapi, the job API and the embedded runtime load only when `serve` runs.
        const { startServer } = await import("./serve.ts");
        const server = await startServer({
          port: o.port,
          host: o.host,
          stateDir: o.stateDir,
          runner: o.runner,
          ...(o.apiKeyFile === undefined ? {} : { apiKeyFile: o.apiKeyFile }),
        });
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off("SIGINT", stop);
            process.off("SIGTERM", stop);
            server.close().then(resolve, resolve);
          };
          process.on("SIGINT", stop);
          process.on("SIGTERM", stop);
        });
      },
    );
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new BadInputError(`invalid port "${value}"`, "use 1–65535 (0: any free port)");
  return n;
}
