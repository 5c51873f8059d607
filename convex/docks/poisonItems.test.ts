// Poison items from a hostile provider: trimming the stored copy of an item
// must never change the row's own fields (the action parses the raw item once).
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

type Item = Record<string, unknown>;

async function vultrDock() {
  const t = newTest();
  const orgId = await seedOrg(t);
  const { as } = await seedMember(t, orgId, "member");
  const dockId = await seedDock(t, orgId, "vultr", emulator.accounts.vultr.token);
  return { t, as, dockId };
}

/** The item with `field: value` placed right after the fields the row needs, before label and attachment. */
function withFieldBeforeLabel(item: Item, field: string, value: unknown): Item {
  const { id, size_gb, region, status, ...rest } = item;
  return { id, size_gb, region, status, [field]: value, ...rest };
}

describe("poison items", () => {
  test("a block with a 60,000-value field before its label keeps its label and attachment", async () => {
    const { t, as, dockId } = await vultrDock();
    const account = emulator.accounts.vultr;
    const block: Item = { ...account.volumes[0], label: "db-data", attached_to_instance: String(account.servers[0].id) };
    emulator.setAccount("vultr", { ...account, volumes: [block] });
    await syncNow(t, as, dockId);
    const [before] = await rowsOf(t, "blockVolumes", dockId);
    expect(before.name).toBe("db-data");

    const metrics = Array.from({ length: 60 }, () => Array.from({ length: 1000 }, (_, i) => i));
    emulator.setAccount("vultr", { ...account, volumes: [withFieldBeforeLabel(block, "metrics", metrics)] });
    const dock = await syncNow(t, as, dockId);
    const [after] = await rowsOf(t, "blockVolumes", dockId);
    expect(dock.lastSyncStatus).toBe("success");
    expect(after.name).toBe("db-data");
    expect(after.attachedToInstance).toBe(block.attached_to_instance);
  });

  test("a new block whose largest part is a required field is still stored", async () => {
    const { t, as, dockId } = await vultrDock();
    const account = emulator.accounts.vultr;
    // Over the 64 KiB item budget, and the status string (the required field)
    // is the largest single part, so storing drops it.
    const fat: Item = {
      ...account.volumes[0],
      id: "fat-block-0000",
      status: "active".padEnd(4000, " "),
      ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`note_${i}`, "n".repeat(3500)])),
    };
    emulator.setAccount("vultr", { ...account, volumes: [fat] });
    const dock = await syncNow(t, as, dockId);
    const rows = await rowsOf(t, "blockVolumes", dockId);
    // Either the block is stored or the dock says it was not.
    const stored = rows.some((r) => r.providerResourceId === "fat-block-0000");
    expect({ stored, status: dock.lastSyncStatus }).not.toEqual({ stored: false, status: "success" });
  });
});
