/**
 * The exactly-once marker (DESIGN.md): a key on the target per (job, source shard) — per slot on a
 * cluster target — holding where that shard's stream stands on the target. Written in the same
 * MULTI…EXEC as the commands it covers, so commands and marker are applied together or not at all.
 *
 * Value format (ASCII): `<replid>:<offset>:<db>` for the stream phase and
 * `<replid>:<offset>:<db>:s<seq>` while a snapshot taken at `offset` is being applied.
 */
import type { MarkerState } from "./types.ts";

export const DEFAULT_MARKER_PREFIX = "__ferry:";

export function markerKey(prefix: string, job: string, shard: string): string {
  return `${prefix}${job}:${shard}`;
}

export function encodeMarker(state: MarkerState): string {
  const base = `${state.replid}:${state.offset}:${state.db}`;
  return state.seq === undefined ? base : `${base}:s${state.seq}`;
}

export function decodeMarker(value: string | Buffer | null): MarkerState | null {
  if (value === null) return null;
  const parts = value.toString().split(":");
  const [replid, offset, db, seq] = parts;
  if (!replid || offset === undefined || db === undefined || parts.length > 4) return null;
  const state: MarkerState = { replid, offset: Number(offset), db: Number(db) };
  if (seq !== undefined) {
    if (!seq.startsWith("s")) return null;
    state.seq = Number(seq.slice(1));
  }
  if (!Number.isSafeInteger(state.offset) || !Number.isSafeInteger(state.db)) return null;
  return state;
}

/**
 * Is the command at `position` already applied according to `marker`? Snapshot commands of the same
 * snapshot compare by seq; any stream command is after every snapshot command of its replid.
 */
export function isApplied(
  marker: MarkerState | null,
  position: { replid: string; offset: number; seq?: number },
): boolean {
  if (!marker || marker.replid !== position.replid) return false;
  if (position.seq !== undefined) {
    // A snapshot command: applied if the marker is past this snapshot or at/after its seq.
    if (marker.offset !== position.offset) return marker.offset > position.offset;
    return marker.seq === undefined || marker.seq >= position.seq;
  }
  if (marker.seq !== undefined) return false; // the snapshot is still being applied
  return position.offset <= marker.offset;
}
