// The numbered pager fetches pages ahead within a byte budget that follows
// the largest page seen, and fetches only one ahead until a page after the
// first has shown its size: a small page 1 cannot let six near-8 MiB pages
// into an action's 64 MiB at once.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { generateAccount } from "../../docks/emulator/accounts";
import { startEmulator, type Emulator } from "../../docks/emulator/server";
import { PAGE_MEMORY_BUDGET, ProviderClient } from "./http";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator();
});
afterEach(() => emulator.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the numbered pager's byte-bounded window", () => {
  test("a small first page does not let near-8 MiB pages be fetched ahead more than one at a time", async () => {
    const token = emulator.accounts.digitalocean.token;
    const account = generateAccount("digitalocean", { seed: 3, servers: 1, volumes: 1400, token });
    // Page 1 (200 items) stays small; pages 2-7 carry a 35 KB field per item.
    const padding = "p".repeat(35_000);
    const volumes = account.volumes.map((v, i) => (i < 200 ? v : { ...v, description: padding }));
    emulator.setAccount("digitalocean", { ...account, volumes });
    const client = new ProviderClient({
      provider: "digitalocean",
      token,
      baseUrl: emulator.baseUrls.digitalocean,
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 20_000 },
      concurrency: 6,
    });
    const bigPageBytes = JSON.stringify(volumes.slice(200, 400)).length;
    expect(bigPageBytes).toBeGreaterThan(PAGE_MEMORY_BUDGET);

    const pages = client.pages<Record<string, unknown>>("/v2/volumes", "volumes");
    const first = await pages.next();
    expect((first.value as unknown[]).length).toBe(200);
    // The consumer is still on page 1: let the pages fetched ahead arrive.
    for (let i = 0; i < 200 && emulator.requests.filter((r) => r.status === 0).length > 0; i++) await sleep(10);
    await sleep(200);
    const aheadAnswered = emulator.requests.filter((r) => r.query.page !== "1" && r.status === 200).length;
    await pages.return(undefined);
    // Pages larger than the budget should go one at a time.
    expect(aheadAnswered * bigPageBytes).toBeLessThanOrEqual(PAGE_MEMORY_BUDGET + bigPageBytes);
  });
});
