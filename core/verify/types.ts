/** What `ferry verify` takes and reports. */

export type VerifyMode = "full" | "fast";

export interface VerifyOptions {
  mode: VerifyMode;
  /** Fraction of keys to check, 0 < sample ≤ 1 (`--sample 1%` → 0.01). */
  sample: number;
  /** Source db → target db; absent = every source db to the same number. With a map, unlisted dbs are skipped. */
  dbMap?: Map<number, number>;
  /**
   * Which source keys are in scope (the same filter as `ferry sync`). Hook for core/filters: pass its
   * predicate here; absent = every key.
   */
  keyFilter?: (db: number, key: Buffer) => boolean;
  /** Ferry's exactly-once marker keys are never compared. Default `__ferry:`. */
  markerPrefix: string;
  ttlToleranceMs: number;
  /** A key found different is compared again after this delay (live sync catching up)… */
  recheckDelayMs: number;
  /** …up to this many times before it is reported. */
  rechecks: number;
  /** Keep at most this many differing keys in the report (counts are always complete). */
  maxReport: number;
  /** Scan the target for keys the source does not have. Default true. */
  extra: boolean;
  /** SCAN COUNT and page size for ranges (LRANGE/ZRANGE/XRANGE/HSCAN…). */
  batchSize: number;
  /** Collections up to this many elements are compared whole; bigger ones page by page. */
  wholeValueMaxElements: number;
  /** Strings longer than this are compared by GETRANGE slices of this size. */
  stringSliceBytes: number;
  /** Keys whose values are compared concurrently. */
  concurrency: number;
  onProgress?: (progress: VerifyProgress) => void;
}

export const DEFAULT_VERIFY_OPTIONS: VerifyOptions = {
  mode: "full",
  sample: 1,
  markerPrefix: "__ferry:",
  ttlToleranceMs: 1000,
  recheckDelayMs: 500,
  rechecks: 3,
  maxReport: 20,
  extra: true,
  batchSize: 500,
  wholeValueMaxElements: 1000,
  stringSliceBytes: 256 * 1024,
  concurrency: 16,
};

export interface VerifyProgress {
  phase: "source" | "target";
  scanned: number;
  /** DBSIZE total of the side being scanned (keys in scope may be fewer). */
  total: number;
}

export type DifferenceKind = "missing" | "extra" | "different" | "ttl";

export interface Difference {
  kind: DifferenceKind;
  /** Source db (for extra keys: the source db the target db maps back to). */
  db: number;
  targetDb: number;
  key: Buffer;
  reason: string;
}

export interface VerifyCounts {
  /** Source keys compared. */
  checked: number;
  equal: number;
  missing: number;
  extra: number;
  different: number;
  ttlDiffers: number;
  /** Keys that disappeared from the source between SCAN and compare (expired/deleted): not counted. */
  vanished: number;
}

export interface VerifyReport {
  counts: VerifyCounts;
  /** The first `maxReport` differences, after rechecks. */
  differences: Difference[];
  equal: boolean;
  /** Largest number of value elements held in memory at once by one key compare (proves bounded memory). */
  peakElementsHeld: number;
  elapsedMs: number;
}
