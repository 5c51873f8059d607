// Spaces ListBuckets against the sync's time bounds: the S3 requests run
// outside ProviderClient, so its deadline and its cap on waits must be kept
// by the S3 listing itself. Spaces is stood in for by a stubbed fetch.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { ProviderClient, ProviderError } from "../../http";
import { listSpacesBuckets, SPACES_REGIONS, spacesBucketPages } from "./spaces";

const pair = { accessKeyId: "DO00EXAMPLEACCESSKEY", secretAccessKey: "s3cr3t/Example+Secret/Key0123456789abcdefgh" };
const EMPTY = `<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>`;
const SLOW_DOWN = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`;

let saved: string | undefined;
beforeEach(() => {
  saved = process.env.DIGITALOCEAN_SPACES_URL;
  delete process.env.DIGITALOCEAN_SPACES_URL;
});
afterEach(() => {
  vi.unstubAllGlobals();
  if (saved === undefined) delete process.env.DIGITALOCEAN_SPACES_URL;
  else process.env.DIGITALOCEAN_SPACES_URL = saved;
});

describe("Spaces ListBuckets within the sync's time bounds", () => {
  test("a Retry-After of an hour is not waited for: no wait passes the client's 30 s cap", async () => {
    const requests: string[] = [];
    vi.stubGlobal("fetch", async (url: URL) => {
      requests.push(String(url));
      return new Response(SLOW_DOWN, { status: 503, headers: { "retry-after": "3600" } });
    });
    const waits: number[] = [];
    const outcome = await listSpacesBuckets("nyc3", pair, {
      timeoutMs: 1000,
      sleep: async (ms) => {
        waits.push(ms);
      },
    }).then(
      () => "listed",
      (e: unknown) => (e instanceof ProviderError ? `ProviderError ${e.status}` : String(e)),
    );
    expect(outcome).toBe("ProviderError 503");
    expect(waits.filter((ms) => ms > 30_000)).toEqual([]);
  });

  test("a sync whose time budget has run out sends Spaces no more requests", async () => {
    let requests = 0;
    vi.stubGlobal("fetch", async () => {
      requests++;
      return new Response(EMPTY, { status: 200 });
    });
    // The listing client of a sync past its deadline: its own requests refuse to start.
    const client = new ProviderClient({ provider: "digitalocean", token: "t".repeat(71), s3Key: pair, deadline: Date.now() - 1 });
    const outcome = await (async () => {
      let pages = 0;
      for await (const page of spacesBucketPages(client)) pages += page.length >= 0 ? 1 : 0;
      return `listed ${pages} regions`;
    })().catch((e: unknown) => (e instanceof ProviderError ? "refused: budget spent" : String(e)));
    expect({ outcome, requests }).toEqual({ outcome: "refused: budget spent", requests: 0 });
    expect(SPACES_REGIONS.length).toBe(11);
  });
});
