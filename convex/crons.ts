// Re-syncs docks on their schedule: every minute, the docks whose nextSyncAt
// has passed are started (each dock's own interval and failure backoff set it).
import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

crons.interval("sync due docks", { minutes: 1 }, internal.docks.cron.syncDueDocks, {});

export default crons;
