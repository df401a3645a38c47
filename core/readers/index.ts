export { exportFilterMetrics, type FilterMetricsExporter } from "./filterMetrics.ts";
export { type OpenRdbOptions, openRdbInput, type RdbInput, type RdbOpener } from "./rdbFile/input.ts";
export { type RdbJobStatus, RdbRestoreJob, type RdbRestoreJobOptions } from "./rdbFile/job.ts";
export { RdbRestore, type RdbRestoreOptions, type RdbRestoreStatus } from "./rdbFile/restore.ts";
export { DirtyKeySet } from "./scan/dirtyKeys.ts";
export { judgeNotifyFlags, notifyFlagsError, parseNotification } from "./scan/notify.ts";
export { ScanReader, type ScanReaderTuning } from "./scan/scanReader.ts";
export type { ScanShardStatus } from "./scan/scanShard.ts";
export type { ReaderContext, ReaderStatus, SourceMode, SourceReader } from "./types.ts";
