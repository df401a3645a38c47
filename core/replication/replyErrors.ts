/**
 * What an error reply during the replica handshake means, and what the user should do about it.
 * Codes are the first word of the reply (Redis 7: `-WRONGPASS invalid username-password pair…`).
 */
import { FatalError, type FerryError, RetryableError } from "../errors.ts";
import type { RespErrorReply } from "../resp/types.ts";

export type HandshakeStep = "AUTH" | "REPLCONF listening-port" | "REPLCONF capa" | "PSYNC";

const ACL_ADVICE =
  "give the source user the replication commands, e.g. `ACL SETUSER <user> on >pass +psync +replconf +ping`";

export const REPLY_ERRORS = {
  NOAUTH: {
    retryable: false,
    advice:
      "the source requires a password: put it in the source URL (redis://:pass@host) or FERRY_SOURCE_PASSWORD",
  },
  WRONGPASS: {
    retryable: false,
    advice:
      "wrong source username/password: check the source URL or FERRY_SOURCE_USERNAME/FERRY_SOURCE_PASSWORD",
  },
  NOPERM: { retryable: false, advice: ACL_ADVICE },
  NOMASTERLINK: {
    retryable: true,
    advice:
      "the source is a replica without a link to its master; ferry retries (or point --source at the master)",
  },
  LOADING: { retryable: true, advice: "the source is loading its dataset into memory; ferry retries" },
  MASTERDOWN: { retryable: true, advice: "the source's master link is down; ferry retries" },
  BUSY: { retryable: true, advice: "the source is busy running a script; ferry retries" },
} as const satisfies Record<string, { retryable: boolean; advice: string }>;

/** `-ERR unknown command 'PSYNC'` is how a renamed/blocked command shows (rename-command, managed services). */
const UNKNOWN_COMMAND = /^ERR unknown (sub)?command/i;
const AUTH_WITHOUT_PASSWORD = /^ERR AUTH .*without any password configured/i;

export function handshakeError(step: HandshakeStep, reply: RespErrorReply, address: string): FerryError {
  const what = `${address} refused ${step}: ${reply.message}`;
  const known = REPLY_ERRORS[reply.code as keyof typeof REPLY_ERRORS];
  if (known !== undefined) {
    return known.retryable ? new RetryableError(what, known.advice) : new FatalError(what, known.advice);
  }
  if (UNKNOWN_COMMAND.test(reply.message)) {
    return new FatalError(
      what,
      step === "PSYNC"
        ? "PSYNC is renamed or blocked on this source (managed services do this): pass --psync-command <renamed name>, or use --source-mode scan"
        : `${step.split(" ")[0]} is renamed or blocked on this source; replica emulation needs it — use --source-mode scan`,
    );
  }
  if (AUTH_WITHOUT_PASSWORD.test(reply.message)) {
    return new FatalError(what, "the source has no password set: remove the password from the source URL");
  }
  return new FatalError(what, "the source cannot serve a replica; check its logs and replication settings");
}
