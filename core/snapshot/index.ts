export {
  acceptsPayload,
  featuresFor,
  rdbVersionFor,
  rewriteOptionsFor,
  type ServerFlavor,
  type TargetFeatures,
  type TargetInfo,
  targetInfo,
  targetInfoFromInfo,
} from "./target.ts";
export {
  type SnapshotCommand,
  type SnapshotCounters,
  SnapshotTranslator,
  type SnapshotTranslatorOptions,
} from "./translator.ts";
