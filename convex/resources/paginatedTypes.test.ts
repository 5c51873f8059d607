// Compile-time checks that the dashboard can hand every paginated query, with
// every filter and sort, to convex/react's usePaginatedQuery. `npx tsc` checks
// this file (expectTypeOf and @ts-expect-error fail the typecheck, not the run).
import type { PaginatedQueryArgs, PaginatedQueryReference, usePaginatedQuery } from "convex/react";
import { describe, expectTypeOf, test } from "vitest";
import { api } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { Provider } from "../validators";

const queries = api.resources.queries;

/** The args usePaginatedQuery takes for a query (its second parameter). */
type HookArgs<Q extends PaginatedQueryReference> = Exclude<Parameters<typeof usePaginatedQuery<Q>>[1], "skip">;

type Scope = { orgId: Id<"organizations">; dockId?: Id<"docks"> | undefined; provider?: Provider | undefined };
type Sorted = {
  orgId: Id<"organizations">;
  dockId?: Id<"docks"> | undefined;
  provider?: Provider | undefined;
  region?: string | undefined;
  sort?: "name" | "size" | undefined;
};

describe("paginated queries and usePaginatedQuery", () => {
  test("each paginated query is a PaginatedQueryReference", () => {
    expectTypeOf(queries.paginateServers).toExtend<PaginatedQueryReference>();
    expectTypeOf(queries.paginateBlockVolumes).toExtend<PaginatedQueryReference>();
    expectTypeOf(queries.paginateBuckets).toExtend<PaginatedQueryReference>();
  });

  test("the hook's args are exactly the filters and sort, each optional on its own, so every combination is accepted", () => {
    // Equal types with every filter optional: any subset of them type-checks.
    expectTypeOf<PaginatedQueryArgs<typeof queries.paginateServers>>().branded.toEqualTypeOf<Scope>();
    expectTypeOf<PaginatedQueryArgs<typeof queries.paginateBuckets>>().branded.toEqualTypeOf<Sorted>();
    expectTypeOf<PaginatedQueryArgs<typeof queries.paginateBlockVolumes>>().branded.toEqualTypeOf<
      Sorted & { unattachedOnly?: boolean }
    >();
    expectTypeOf<HookArgs<typeof queries.paginateBlockVolumes>>().toEqualTypeOf<
      PaginatedQueryArgs<typeof queries.paginateBlockVolumes>
    >();
  });

  test("the widest and narrowest combinations are accepted by the hook", () => {
    const orgId = "o" as Id<"organizations">;
    const dockId = "d" as Id<"docks">;
    expectTypeOf({ orgId }).toExtend<HookArgs<typeof queries.paginateBlockVolumes>>();
    expectTypeOf({
      orgId,
      dockId,
      provider: "vultr" as const,
      region: "ewr",
      sort: "size" as const,
      unattachedOnly: true,
    }).toExtend<HookArgs<typeof queries.paginateBlockVolumes>>();
    expectTypeOf({ orgId, provider: "linode" as const, region: "us-ord", sort: "name" as const }).toExtend<
      HookArgs<typeof queries.paginateBuckets>
    >();
    expectTypeOf({ orgId, dockId, provider: "digitalocean" as const }).toExtend<HookArgs<typeof queries.paginateServers>>();
  });

  test("what the queries do not take does not compile", () => {
    const orgId = "o" as Id<"organizations">;
    // @ts-expect-error buckets are never attached, so they have no unattached filter
    const buckets: HookArgs<typeof queries.paginateBuckets> = { orgId, sort: "size", unattachedOnly: true };
    // @ts-expect-error the stored order is the absent sort, not a value
    const volumes: HookArgs<typeof queries.paginateBlockVolumes> = { orgId, sort: "created" };
    // @ts-expect-error servers have no sort
    const servers: HookArgs<typeof queries.paginateServers> = { orgId, sort: "name" };
    // @ts-expect-error orgId is required
    const noOrg: HookArgs<typeof queries.paginateBlockVolumes> = { sort: "name" };
    expectTypeOf([buckets, volumes, servers, noOrg]).not.toBeNever();
  });
});
