/** `ferry check` implementation (flags in ./checkCommand.ts): preflight of source and target with tuning advice (core/check). */
import { formatCheckReport, runCheck } from "../../core/check/run.ts";
import { type EndpointRole, parseRedisUrl, withTls } from "../../core/connect/index.ts";
import type { RedisEndpoint } from "../../core/replication/types.ts";
import type { CheckCliOptions } from "./checkCommand.ts";
import type { EndpointCliOptions } from "./endpointOptions.ts";

/** `--source`/`--target` URL + the shared TLS flags → endpoint (also used by `ferry verify`). */
export function endpointFromCli(
  url: string,
  role: EndpointRole,
  opts: EndpointCliOptions,
): RedisEndpoint & { db?: number } {
  const parsed = parseRedisUrl(url, { role });
  const { tlsEnabled: _tls, ...endpoint } = parsed;
  return withTls(endpoint, { caFile: opts.tlsCa, insecure: opts.tlsInsecure });
}

export async function runCheckCommand(opts: CheckCliOptions): Promise<void> {
  const report = await runCheck({
    source: endpointFromCli(opts.source, "source", opts),
    target: endpointFromCli(opts.target, "target", opts),
    options: {
      sampleSeconds: opts.sampleSeconds,
      scanSeconds: opts.scanSeconds,
      bigKeyThreshold: opts.bigKeyThreshold,
      snapshotBytesPerSecond: opts.snapshotRate,
      psyncCommand: opts.psyncCommand,
      sourceMode: opts.sourceMode,
    },
  });
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatCheckReport(report));
  process.exitCode = report.exitCode;
}
