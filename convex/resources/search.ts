// Name search over block volumes and buckets for the dashboard's search box:
// the best matches of the caller's organizations, a bounded top-N (never
// pages: see docs/find-and-sort.md). Not for listing: the paginated queries
// in ./queries.ts are.
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import { query, type QueryCtx } from "../_generated/server";
import { readableOrgIds } from "../lib/auth";
import { fail } from "../lib/errors";
import { vBlockVolumeDoc, vBucketDoc, vProvider, type Provider } from "../validators";

/** The most characters a search text may have; a longer one is refused (INVALID_ARGUMENT). */
export const MAX_SEARCH_TEXT = 100;
/** Convex searches at most 16 terms; a text with more is refused rather than cut. */
export const MAX_SEARCH_TERMS = 16;
export const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_LIMIT = 100;

const searchArgs = {
  text: v.string(),
  orgId: v.optional(v.id("organizations")),
  provider: v.optional(vProvider),
  dockId: v.optional(v.id("docks")),
  region: v.optional(v.string()),
  limit: v.optional(v.number()),
};

type SearchArgs = {
  text: string;
  orgId?: Id<"organizations">;
  provider?: Provider;
  dockId?: Id<"docks">;
  region?: string;
  limit?: number;
};

const searchResult = <T extends typeof vBlockVolumeDoc | typeof vBucketDoc>(row: T) =>
  v.object({ results: v.array(row), hasMore: v.boolean() });

/**
 * The terms Convex's tokenizer (Tantivy's SimpleTokenizer) makes of a text:
 * runs of letters and digits, split on whitespace and punctuation.
 */
export function searchTerms(text: string): string[] {
  return text.split(/[^\p{L}\p{N}]+/u).filter((term) => term.length > 0);
}

/**
 * The text to search for, or null when it holds no term (empty, blank or
 * punctuation only: a cleared search box, answered with no results). Refuses
 * a text past MAX_SEARCH_TEXT characters or MAX_SEARCH_TERMS terms, and a
 * limit that is not a whole number from 1 to MAX_SEARCH_LIMIT.
 */
export function checkSearch(args: SearchArgs): { text: string; limit: number } | null {
  const limit = args.limit ?? DEFAULT_SEARCH_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
    fail("INVALID_ARGUMENT", `The limit must be a whole number from 1 to ${MAX_SEARCH_LIMIT}.`);
  }
  if (args.text.length > MAX_SEARCH_TEXT) {
    fail("INVALID_ARGUMENT", `Search for at most ${MAX_SEARCH_TEXT} characters.`);
  }
  const terms = searchTerms(args.text);
  if (terms.length > MAX_SEARCH_TERMS) {
    fail("INVALID_ARGUMENT", `Search for at most ${MAX_SEARCH_TERMS} words.`);
  }
  if (terms.length === 0) return null;
  return { text: args.text.trim(), limit };
}

type SearchTable = "blockVolumes" | "buckets";

type LooseSearch = {
  search(field: "name", text: string): LooseFilter;
};
type LooseFilter = { eq(field: string, value: unknown): LooseFilter };
type LooseSearchable = {
  withSearchIndex(index: "search_name", filter: (q: LooseSearch) => LooseFilter): AsyncIterable<unknown>;
};

/**
 * The best `limit` matches in the orgs the caller may read, with hasMore
 * when there are more. Each org is one search (a search index range needs
 * the org in equality); their results are merged rank by rank (every org's
 * best match, then every org's second...), since Convex does not expose the
 * scores that would order them across orgs. At most limit + 1 rows are read.
 * `readable` are the orgs the caller may read (readableOrgIds).
 */
export async function searchNames<T extends SearchTable>(
  ctx: QueryCtx,
  table: T,
  readable: Id<"organizations">[],
  args: SearchArgs,
): Promise<{ results: Doc<T>[]; hasMore: boolean }> {
  let orgIds = readable;
  const checked = checkSearch(args);
  if (checked === null || orgIds.length === 0) return { results: [], hasMore: false };
  if (args.dockId !== undefined) {
    const dock = await ctx.db.get("docks", args.dockId);
    if (dock === null || !orgIds.includes(dock.orgId)) return { results: [], hasMore: false };
    if (args.provider !== undefined && args.provider !== dock.provider) return { results: [], hasMore: false };
    orgIds = [dock.orgId];
  }
  const streams = orgIds.map((orgId) => {
    const q = ctx.db.query(table) as unknown as LooseSearchable;
    const rows = q.withSearchIndex("search_name", (s) => {
      let filter = s.search("name", checked.text).eq("orgId", orgId);
      if (args.provider !== undefined) filter = filter.eq("provider", args.provider);
      if (args.dockId !== undefined) filter = filter.eq("dockId", args.dockId);
      if (args.region !== undefined) filter = filter.eq("region", args.region);
      return filter;
    });
    return rows[Symbol.asyncIterator]() as AsyncIterator<Doc<T>>;
  });
  const results: Doc<T>[] = [];
  let live = streams;
  while (live.length > 0) {
    const next: AsyncIterator<Doc<T>>[] = [];
    for (const stream of live) {
      const step = await stream.next();
      if (step.done === true) continue;
      if (results.length === checked.limit) {
        // One more match exists: say so, and read no further.
        return { results, hasMore: true };
      }
      results.push(step.value);
      next.push(stream);
    }
    live = next;
  }
  return { results, hasMore: false };
}

/**
 * Block volumes whose name matches `text` (whole words, the last one also as
 * a prefix), in the caller's orgs or `orgId`, optionally of one provider,
 * dock or region. Empty for a blank text or where the caller may see nothing.
 */
export const searchBlockVolumes = query({
  args: searchArgs,
  returns: searchResult(vBlockVolumeDoc),
  handler: async (ctx, args) => {
    const readable = await readableOrgIds(ctx, args.orgId);
    return await searchNames(ctx, "blockVolumes", readable, args);
  },
});

/** Buckets whose name matches `text`; as searchBlockVolumes. */
export const searchBuckets = query({
  args: searchArgs,
  returns: searchResult(vBucketDoc),
  handler: async (ctx, args) => {
    const readable = await readableOrgIds(ctx, args.orgId);
    return await searchNames(ctx, "buckets", readable, args);
  },
});
