// The live progress of a running sync, as the dock shows it while syncState is
// "syncing": the phase, and per type the pages, items and writes so far. Not
// the outcome: finishSync records that in lastSyncStats and clears this.
import type { SyncedType, SyncPhase, SyncProgress, TypeSyncStats } from "../validators";
import type { ChunkResult } from "./sync";

// Each write of the dock document re-runs every dashboard subscribed to the
// dock list, so a sync writes its progress at most once per this long, plus
// once per phase change (at most two per type: listing, confirming
// deletions), whatever the number of items or pages. Inside Convex's
// 10-minute action limit that is at most 120 + 2 x types writes a sync. Most
// of them ride on a chunk mutation the sync makes anyway.
export const PROGRESS_INTERVAL_MS = 5_000;

/** The clock progress is stamped and throttled by; a test may replace `now`. */
export const progressClock = { now: (): number => Date.now() };

type TypeEntry = { stats: TypeSyncStats; pages: number; done: boolean };

/**
 * What one sync has done so far, and when it is due to be written: on a phase
 * change, or PROGRESS_INTERVAL_MS after the last write. `take` hands out the
 * snapshot when it is due and counts it as written, so concurrent callers
 * (lookups run several at once) write it once.
 */
export class SyncProgressTracker {
  private phase: SyncPhase = "starting";
  private type: SyncedType | undefined;
  private readonly types = new Map<SyncedType, TypeEntry>();
  // startSync wrote the "starting" snapshot as it took the lease.
  private phaseWritten = true;
  private lastWrite: number;

  constructor(private readonly clock: { now(): number } = progressClock) {
    this.lastWrite = clock.now();
  }

  /** `type` moves to `phase`; the next `take` writes it. */
  enter(phase: SyncPhase, type: SyncedType) {
    if (phase === this.phase && type === this.type) return;
    this.phase = phase;
    this.type = type;
    this.phaseWritten = false;
  }

  /**
   * Follows `stats` (updated in place by the sync) for `type`; a listing read
   * again starts its counts again.
   */
  track(type: SyncedType, stats: TypeSyncStats) {
    this.types.set(type, { stats, pages: 0, done: false });
  }

  /** One more provider page of `type` was read. */
  page(type: SyncedType) {
    const entry = this.types.get(type);
    if (entry !== undefined) entry.pages++;
  }

  /** `type`'s sync ended. */
  done(type: SyncedType) {
    const entry = this.types.get(type);
    if (entry !== undefined) entry.done = true;
  }

  /** The snapshot to write now, or undefined while none is due. */
  take(): SyncProgress | undefined {
    const now = this.clock.now();
    if (this.phaseWritten && now - this.lastWrite < PROGRESS_INTERVAL_MS) return undefined;
    this.phaseWritten = true;
    this.lastWrite = now;
    return this.snapshot(now);
  }

  snapshot(now = this.clock.now()): SyncProgress {
    return {
      phase: this.phase,
      ...(this.type === undefined ? {} : { type: this.type }),
      types: [...this.types].map(([type, { stats, pages, done }]) => ({
        type,
        pages,
        fetched: stats.fetched,
        inserted: stats.inserted,
        updated: stats.updated,
        unchanged: stats.unchanged,
        skipped: stats.skipped,
        deleted: stats.deleted,
        done,
      })),
      updatedAt: now,
    };
  }
}

/**
 * A snapshot taken before a chunk was written, with that chunk's writes added:
 * the chunk mutation stores it, so the dock shows the rows just written.
 */
export function withChunkWritten(
  progress: SyncProgress,
  results: Partial<Record<SyncedType, ChunkResult>>,
): SyncProgress {
  return {
    ...progress,
    types: progress.types.map((entry) => {
      const r = results[entry.type];
      return r === undefined
        ? entry
        : {
            ...entry,
            inserted: entry.inserted + r.inserted,
            updated: entry.updated + r.updated,
            unchanged: entry.unchanged + r.unchanged,
          };
    }),
  };
}
