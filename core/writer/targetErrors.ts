/**
 * What a target's error reply means for a migration, as data (STYLE.md habit 2): which ones a retry
 * can fix and which need the user, with the advice to print. Used by every writer.
 */
import { FatalError, FerryError, isRetryable, RetryableError } from "../errors.ts";

type Kind = "fatal" | "retryable";

interface Rule {
  readonly test: RegExp;
  readonly kind: Kind;
  /** `key` is the command's first argument (printable form), `detail` the server's message. */
  readonly message: (ctx: { key: string; command: string; detail: string }) => string;
  readonly advice: string;
}

const RULES: readonly Rule[] = [
  {
    test: /^OOM\b/,
    kind: "fatal",
    message: () =>
      "target is out of memory (maxmemory reached and its policy refuses writes): raise maxmemory or free space; nothing of this batch was applied",
    advice: "raise maxmemory on the target (CONFIG SET maxmemory …) or free space there, then resume the job",
  },
  {
    test: /^READONLY\b/,
    kind: "fatal",
    message: () => "target is a read-only replica: point --target at its master",
    advice: "use the master's address for --target (INFO replication on the target shows master_host)",
  },
  {
    test: /^(NOAUTH|WRONGPASS)\b/,
    kind: "fatal",
    message: ({ detail }) => `target refused authentication: ${detail}`,
    advice: "check the user and password in --target (or FERRY_TARGET_PASSWORD)",
  },
  {
    test: /^NOPERM\b/,
    kind: "fatal",
    message: ({ command, detail }) => `target ACL forbids ${command}: ${detail}`,
    advice:
      "grant it to the target user (ACL SETUSER <user> +<command>): ferry needs RESTORE, the write commands of the source stream, MULTI, EXEC, WATCH, EVAL, SELECT, GET, SET, SCAN and DEL; then run the job again (it resumes)",
  },
  {
    test: /DUMP payload version or checksum are wrong|Bad data format/,
    kind: "fatal",
    message: ({ key, detail }) => `target cannot load the RESTORE payload of key "${key}": ${detail}`,
    advice:
      "the target is older than the source (RDB format): restart the job with the rewrite path (values written as plain commands, e.g. --rewrite-values) instead of RESTORE",
  },
  {
    test: /^BUSYKEY\b/,
    kind: "fatal",
    message: ({ key }) => `key "${key}" already exists on the target`,
    advice: "remove it from the target, or allow replacing existing keys (RESTORE … REPLACE) for this job",
  },
  {
    test: /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|MISCONF)\b/,
    kind: "retryable",
    message: ({ detail }) => `target is temporarily unable to write: ${detail}`,
    advice:
      "ferry retries; if this persists check the target's log (loading a dataset, busy script, failed save)",
  },
] as const;

/** Printable form of a key for messages: UTF-8 when it is text, else hex. */
export function printableKey(key: Buffer | undefined): string {
  if (!key) return "";
  const text = key.toString("utf8");
  return /^[\x20-\x7e]*$/.test(text) && text.length <= 200
    ? text
    : `0x${key.subarray(0, 64).toString("hex")}`;
}

/** Is this an error reply from the server (as opposed to a lost connection or a timeout)? */
export function isReplyError(err: unknown): err is Error {
  return err instanceof Error && err.name === "ReplyError";
}

/**
 * Turns a target error into a FerryError. Replies not in the table are fatal (the target refuses a
 * command the source accepted: retrying cannot change that); anything that is not a reply — reset,
 * timeout, "Connection is closed" — is retryable.
 */
export function classifyTargetError(err: unknown, argv?: readonly Buffer[]): FerryError {
  // A verdict already made (the transaction connection's AUTH mapping) must not be downgraded to
  // "lost the target connection" and retried forever; retryable ones keep that framing below.
  if (err instanceof FerryError && !isRetryable(err)) return err;
  const detail = err instanceof Error ? err.message : String(err);
  const command = argv?.[0]?.toString("latin1").toUpperCase() ?? "command";
  const key = printableKey(argv?.[1]);
  const options = { cause: err };
  if (!isReplyError(err)) {
    return new RetryableError(
      `lost the target connection during ${command}: ${detail}`,
      "ferry retries; check the network and the target if it persists",
      options,
    );
  }
  const rule = RULES.find((r) => r.test.test(detail));
  if (!rule) {
    return new FatalError(
      `target rejected ${command}${key ? ` on key "${key}"` : ""}: ${detail}`,
      "the target differs from the source (version, modules, existing data); fix it there and resume",
      options,
    );
  }
  const message = rule.message({ key, command, detail });
  return rule.kind === "fatal"
    ? new FatalError(message, rule.advice, options)
    : new RetryableError(message, rule.advice, options);
}
