// The int64 sums against their own range: every row's amount is at most
// 2^53 - 1, but 1,025 of them in one region pass 2^63 - 1.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { generateAccount } from "../../docks/emulator/accounts";
import { startEmulator, type Emulator } from "../../docks/emulator/server";
import { api } from "../_generated/api";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, syncNow, useEmulator } from "../test.setup";
import { recount } from "./storageRecount.test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator({ accounts: { vultr: generateAccount("vultr", { seed: 3, servers: 1, volumes: 1100, buckets: 0 }) } });
  useEmulator(emulator);
});
afterEach(() => emulator.close());

describe("sums past int64", () => {
  test("1,100 volumes of 2^53 - 1 GB in one region: the sync stores every row and the summary equals a recount", { timeout: 300_000 }, async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "member");
    const account = emulator.accounts.vultr;
    const region = String(account.volumes[0].region);
    emulator.setAccount("vultr", {
      ...account,
      volumes: account.volumes.map((v) => ({ ...v, region, size_gb: Number.MAX_SAFE_INTEGER })),
    });
    const dockId = await seedDock(t, orgId, "vultr", account.token);
    const synced = await syncNow(t, as, dockId);
    const rows = await rowsOf(t, "blockVolumes", dockId);
    expect({ status: synced.lastSyncStatus, rows: rows.length, error: synced.lastSyncError?.slice(0, 160) }).toEqual({
      status: "success",
      rows: 1100,
      error: undefined,
    });
    expect(await as.query(api.resources.summary.getStorageSummary, { orgId })).toEqual(await recount(t, { orgIds: [orgId] }));
  });
});
