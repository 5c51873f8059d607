// Page options a client controls besides numItems and maximumBytesRead:
// endCursor and maximumRowsRead reach .paginate() unchecked.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { api } from "../_generated/api";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";
import { MAX_PAGE_SIZE } from "./pageRanges";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

async function orgWithVolumes(extra: number) {
  const t = newTest();
  const orgId = await seedOrg(t);
  const { as } = await seedMember(t, orgId, "viewer");
  const { as: member } = await seedMember(t, orgId, "member");
  const dockId = await seedDock(t, orgId, "vultr", emulator.accounts.vultr.token);
  await syncNow(t, member, dockId);
  const [row] = await rowsOf(t, "blockVolumes", dockId);
  await t.run(async (ctx) => {
    const { _id, _creationTime, ...fields } = row;
    void _id;
    void _creationTime;
    for (let i = 0; i < extra; i++) {
      await ctx.db.insert("blockVolumes", { ...fields, providerResourceId: `copy-${i}`, name: `copy ${i}` });
    }
  });
  return { t, orgId, as };
}

describe("page options a client controls, past numItems", () => {
  test("an endCursor never makes a page hold more than MAX_PAGE_SIZE rows", async () => {
    const { orgId, as } = await orgWithVolumes(MAX_PAGE_SIZE + 100);
    // The cursor at the end of the table, reached by ordinary pages.
    let cursor: string | null = null;
    for (;;) {
      const p: { isDone: boolean; continueCursor: string } = await as.query(api.resources.queries.paginateBlockVolumes, {
        orgId,
        paginationOpts: { numItems: MAX_PAGE_SIZE, cursor },
      });
      cursor = p.continueCursor;
      if (p.isDone) break;
    }
    const page = await as.query(api.resources.queries.paginateBlockVolumes, {
      orgId,
      paginationOpts: { numItems: 1, cursor: null, endCursor: cursor },
    });
    expect(page.page.length).toBeLessThanOrEqual(MAX_PAGE_SIZE);
  });

  test("an unreadable endCursor, or maximumRowsRead of 0, -1 or 1.5, answers a page or a coded refusal", async () => {
    const { orgId, as } = await orgWithVolumes(0);
    const cases: [string, Record<string, unknown>][] = [
      ["endCursor garbage", { numItems: 5, cursor: null, endCursor: "not-a-cursor" }],
      ["maximumRowsRead 0", { numItems: 5, cursor: null, maximumRowsRead: 0 }],
      ["maximumRowsRead -1", { numItems: 5, cursor: null, maximumRowsRead: -1 }],
      ["maximumRowsRead 1.5", { numItems: 5, cursor: null, maximumRowsRead: 1.5 }],
    ];
    const outcomes: Record<string, string> = {};
    for (const [name, paginationOpts] of cases) {
      outcomes[name] = await as
        .query(api.resources.queries.paginateBlockVolumes, { orgId, paginationOpts: paginationOpts as never })
        .then(
          (p) => `page of ${p.page.length}, isDone ${p.isDone}`,
          (e: { data?: { code?: string }; message: string }) => e.data?.code ?? `uncoded: ${e.message.slice(0, 80)}`,
        );
    }
    expect(Object.entries(outcomes).filter(([, o]) => !/^(page of|INVALID_ARGUMENT)/.test(o))).toEqual([]);
  });
});
