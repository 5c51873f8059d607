// Page options a client controls, past their sensible range.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { api } from "../_generated/api";
import { newTest, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

describe("page options out of range", () => {
  test("numItems of 0, -1, NaN and 1.5, and maximumBytesRead of 0, answer a page or a coded refusal", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "viewer");
    const { as: member } = await seedMember(t, orgId, "member");
    const dockId = await seedDock(t, orgId, "vultr", emulator.accounts.vultr.token);
    await syncNow(t, member, dockId);
    const outcomes: Record<string, string> = {};
    const cases: [string, Record<string, unknown>][] = [
      ["numItems 0", { numItems: 0, cursor: null }],
      ["numItems -1", { numItems: -1, cursor: null }],
      ["numItems NaN", { numItems: Number.NaN, cursor: null }],
      ["numItems 1.5", { numItems: 1.5, cursor: null }],
      ["maximumBytesRead 0", { numItems: 5, cursor: null, maximumBytesRead: 0 }],
      ["cursor garbage", { numItems: 5, cursor: "not-a-cursor" }],
    ];
    for (const [name, paginationOpts] of cases) {
      outcomes[name] = await as
        .query(api.resources.queries.paginateBlockVolumes, { orgId, paginationOpts: paginationOpts as never, sort: "size" })
        .then(
          (p) => `page of ${p.page.length}, isDone ${p.isDone}`,
          (e: { data?: { code?: string }; message: string }) => e.data?.code ?? `uncoded: ${e.message.slice(0, 80)}`,
        );
    }
    expect(Object.entries(outcomes).filter(([, o]) => !/^(page of|INVALID_ARGUMENT)/.test(o))).toEqual([]);
  });
});
