// The single-item lookups share the listing client's rate-limit pace: a
// window the listing used up pauses them too.
import { afterEach, describe, expect, test } from "vitest";
import { startEmulator, type Emulator } from "../../docks/emulator/server";
import { newTest, seedDock, seedMember, seedOrg, syncNow, useEmulator } from "../test.setup";

let emulator: Emulator | undefined;
afterEach(async () => {
  delete process.env.SYNC_BUTTON_COOLDOWN_MS;
  await emulator?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a rate-limit window the listing used up", () => {
  test("pauses the lookups that follow until it resets, and every removed row is confirmed and deleted", async () => {
    emulator = await startEmulator({ rateLimit: { digitalocean: { limit: 2, windowMs: 1500 } } });
    useEmulator(emulator);
    process.env.SYNC_BUTTON_COOLDOWN_MS = "1";
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: member } = await seedMember(t, orgId, "member");
    const account = emulator.accounts.digitalocean;
    const dockId = await seedDock(t, orgId, "digitalocean", account.token);
    await syncNow(t, member, dockId);

    // Four volumes deleted at the provider; a fresh window for the next sync.
    emulator.setAccount("digitalocean", { ...account, volumes: account.volumes.slice(4) });
    await sleep(1700);
    emulator.resetRequests();
    const dock = await syncNow(t, member, dockId);

    const throttled = emulator.countRequests({ provider: "digitalocean", status: 429 });
    // The window allows 2 requests: after the pause, 4 lookups at once meet
    // at most 2 refusals, each retried after Retry-After.
    expect(dock.lastSyncStats?.blockVolumes?.deleted).toBe(4);
    expect(throttled).toBeLessThanOrEqual(2);
    const lookups = emulator.requests.filter((r) => r.path.startsWith("/v2/volumes/"));
    const listingEnd = Math.max(...emulator.requests.filter((r) => r.path === "/v2/volumes").map((r) => r.at));
    // None was sent into the window the listing used up.
    expect(lookups.every((r) => r.at - listingEnd >= 1000)).toBe(true);
  });
});
