// A provider (or a proxy in front of it) that echoes the bearer token it was
// sent: in items, in item ids, and in error text. No piece of it is stored,
// named in the dock's stats or shown; an item whose id holds it is skipped
// (such an id can be neither stored nor matched again once redacted).
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { api } from "../_generated/api";
import { generateAccount } from "../../docks/emulator/accounts";
import { parseProviderMessage } from "./http";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

/** Every 12-character piece of the token, as the threat model counts a leak. */
function pieces(token: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 12 <= token.length; i++) out.push(token.slice(i, i + 12));
  return out;
}

describe("token echoes a viewer can read", () => {
  test("a volume item that echoes the bearer token is stored and shown without it", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: member } = await seedMember(t, orgId, "member");
    const { as: viewer } = await seedMember(t, orgId, "viewer");
    const account = emulator.accounts.digitalocean;
    const token = account.token;
    // A debugging proxy (or a compromised provider) reflects the request's
    // Authorization header into each item it lists.
    emulator.setAccount("digitalocean", {
      ...account,
      volumes: account.volumes.map((v) => ({ ...v, request_debug: { authorization: `Bearer ${token}` } })),
    });
    const dockId = await seedDock(t, orgId, "digitalocean", token);
    await syncNow(t, member, dockId);

    const seen = JSON.stringify(await viewer.query(api.resources.queries.listBlockVolumes, { orgId }));
    expect(seen.length).toBeGreaterThan(100);
    expect(pieces(token).filter((p) => seen.includes(p))).toEqual([]);
  });

  test("an error message that echoes a hex token in upper case is redacted", () => {
    // Linode tokens are 64 lower-case hex digits; the upper-case echo is the same secret.
    const token = "9f3a6b1c0d2e4f5a8b7c6d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90";
    const body = JSON.stringify({ errors: [{ reason: `Invalid Token ${token.toUpperCase()}` }] });
    const shown = parseProviderMessage("linode", body, token).toLowerCase();
    expect(pieces(token).filter((p) => shown.includes(p))).toEqual([]);
  });

  test("an error message that echoes the token as colon-separated hex bytes is redacted", () => {
    const token = "dop_v1_9f3a6b1c0d2e4f5a8b7c6d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90";
    const hex = Array.from(new TextEncoder().encode(token), (b) => b.toString(16).padStart(2, "0"));
    const body = JSON.stringify({ id: "unauthorized", message: `bad credential bytes ${hex.join(":")}` });
    const shown = parseProviderMessage("digitalocean", body, token).replace(/:/g, "");
    const hexToken = hex.join("");
    expect(pieces(hexToken).filter((p) => shown.includes(p))).toEqual([]);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a trimmed item whose id echoes the token", () => {
  test("is skipped, so neither a viewer nor the dock document ever holds the token", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: member } = await seedMember(t, orgId, "member");
    const { as: viewer } = await seedMember(t, orgId, "viewer");
    const account = emulator.accounts.digitalocean;
    const token = account.token;
    const [a, ...rest] = account.volumes;
    emulator.setAccount("digitalocean", {
      ...account,
      // Large enough that the stored copy is trimmed, so the item is named.
      volumes: [{ ...a, id: `vol-${token}`, debug: "x".repeat(200_000) }, ...rest],
    });
    const dockId = await seedDock(t, orgId, "digitalocean", token);
    await syncNow(t, member, dockId);

    const shown = JSON.stringify(await viewer.query(api.docks.queries.listDocks, { orgId }));
    const stored = JSON.stringify(await t.run((ctx) => ctx.db.get("docks", dockId)));
    expect({
      toViewer: pieces(token).filter((p) => shown.includes(p)).length,
      inDockDocument: pieces(token).filter((p) => stored.includes(p)).length,
    }).toEqual({ toViewer: 0, inDockDocument: 0 });
  });
});

describe("an item id that carries the dock's token", () => {
  test("is skipped with a reason, never stored, and a re-sync changes nothing", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: member } = await seedMember(t, orgId, "member");
    const account = emulator.accounts.digitalocean;
    const token = account.token;
    const [a, b, ...rest] = account.volumes;
    emulator.setAccount("digitalocean", {
      ...account,
      volumes: [{ ...a, id: `vol-${token}` }, { ...b, id: `vol-${token.slice(0, 20)}` }, ...rest],
    });
    const dockId = await seedDock(t, orgId, "digitalocean", token);
    const dock = await syncNow(t, member, dockId);
    expect(dock.lastSyncStatus).toBe("partial");
    expect(dock.lastSyncStats?.blockVolumes).toMatchObject({ skipped: 2, errorCode: "ITEMS_SKIPPED" });
    expect(dock.lastSyncError).toMatch(/holds the dock's API token/);
    const rows = await rowsOf(t, "blockVolumes", dockId);
    expect(rows.length).toBe(rest.length);
    expect(JSON.stringify(rows)).not.toContain(token.slice(0, 12));
    await sleep(5);
    const again = await syncNow(t, member, dockId);
    expect(again.lastSyncStats?.blockVolumes).toMatchObject({ inserted: 0, updated: 0, deleted: 0 });
    expect((await rowsOf(t, "blockVolumes", dockId)).map((r) => r._id)).toEqual(rows.map((r) => r._id));
  });

  test("in a listing of several chunks, the row count stays what the provider can be stored as, sync after sync", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: member } = await seedMember(t, orgId, "member");
    const account = generateAccount("digitalocean", { seed: 7, servers: 2, volumes: 600 });
    const token = account.token;
    const volumes = [...account.volumes];
    volumes[0] = { ...volumes[0], id: `vol-${token}` };
    volumes[599] = { ...volumes[599], id: `vol-${token.slice(0, 20)}` };
    emulator.setAccount("digitalocean", { ...account, volumes });
    const dockId = await seedDock(t, orgId, "digitalocean", token);
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      await syncNow(t, member, dockId);
      counts.push((await rowsOf(t, "blockVolumes", dockId)).length);
      await sleep(5);
    }
    expect(counts).toEqual([598, 598, 598, 598]);
  });
});
