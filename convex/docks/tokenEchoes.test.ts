// A provider (or a proxy in front of it) that echoes the bearer token it was
// sent, outside the error paths the client redacts.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { api } from "../_generated/api";
import { parseProviderMessage } from "./http";
import { newTest, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";

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
