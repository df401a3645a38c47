/**
 * Human sizes for options such as `--max-bytes 64mb`, `--big-key-threshold 512k`. Units are binary
 * (k = 1024) whether or not an `i` is written, as redis.conf does for `maxmemory 1gb`.
 */
import { BadInputError } from "../errors.ts";

const UNITS = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
} as const satisfies Record<string, number>;

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i;

/** Parses `64mb`, `10MiB`, `512k`, `1.5g`, `4096` into bytes; throws BadInputError otherwise. */
export function parseSize(text: string | number, what = "size"): number {
  if (typeof text === "number") {
    if (Number.isSafeInteger(text) && text >= 0) return text;
    throw new BadInputError(`invalid ${what}: ${text}`, "give a whole number of bytes, e.g. 1048576 or 1mb");
  }
  const match = SIZE.exec(text);
  const unit = match?.[2]?.toLowerCase() ?? "";
  if (!match || !(unit in UNITS)) {
    throw new BadInputError(
      `invalid ${what}: "${text}"`,
      "write a number with an optional unit: b, k/kb/kib, m/mb/mib, g/gb/gib, t/tb/tib (e.g. 64mb, 512k)",
    );
  }
  const bytes = Math.round(Number(match[1]) * UNITS[unit as keyof typeof UNITS]);
  if (!Number.isSafeInteger(bytes))
    throw new BadInputError(`${what} too large: "${text}"`, "use a smaller value");
  return bytes;
}

/** `1536` → `1.5KiB`; for logs and status lines. */
export function formatSize(bytes: number): string {
  const steps = ["B", "KiB", "MiB", "GiB", "TiB"] as const;
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < steps.length - 1) {
    value /= 1024;
    i++;
  }
  return `${i === 0 ? value : Number(value.toFixed(1))}${steps[i]}`;
}
