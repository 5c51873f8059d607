// The shared provider client on its own, against the provider emulator (and,
// where the emulator cannot say it, a tiny local server): paging, retries,
// backoff, Retry-After, rate-limit pacing, deadline, error messages and token
// redaction. Waits go through an injected sleep that records them and moves a
// virtual clock (Date.now) forward instead of sleeping, so waits add up as they
// would in real time while nothing here actually waits.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { generateAccount } from "../../docks/emulator/accounts";
import { startEmulator, type Emulator, type Fault } from "../../docks/emulator/server";
import type { Provider } from "../validators";
import { DigitalOceanAPI } from "./adapters/digitalocean/api";
import { LinodeAPI } from "./adapters/linode/api";
import { VultrAPI } from "./adapters/vultr/api";
import {
  DEFAULT_PAGE_CONCURRENCY,
  exhaustedWindowResetMs,
  IncompleteListingError,
  isScopeRefusal,
  ListingChangedError,
  ListingTooLargeError,
  redactSecret,
  ResponseTooLargeError,
  parseProviderMessage,
  PROVIDER_NAMES,
  ProviderClient,
  ProviderError,
  serverRequestedDelayMs,
  type ClientOptions,
} from "./http";

const PROVIDERS = ["vultr", "digitalocean", "linode"] as const;

// Each provider's storage listing: path, envelope key, page-size parameter and its maximum.
const LISTING = {
  vultr: { path: "/v2/blocks", key: "blocks", sizeParam: "per_page", pageMax: 500 },
  digitalocean: { path: "/v2/volumes", key: "volumes", sizeParam: "per_page", pageMax: 200 },
  linode: { path: "/v4/object-storage/buckets", key: "data", sizeParam: "page_size", pageMax: 500 },
} as const;

// What the emulator's error envelopes say, as parseProviderMessage reads them.
const EMULATOR_MESSAGE: Record<Provider, Record<401 | 500 | 503, string>> = {
  vultr: {
    401: "Invalid or missing API token.",
    500: "Internal server error, please try again later.",
    503: "Service temporarily unavailable, please try again later.",
  },
  digitalocean: {
    401: "Unable to authenticate you. (unauthorized)",
    500: "Server was unable to give you a response. (server_error)",
    503: "The service is temporarily unavailable. Please try again. (service_unavailable)",
  },
  linode: { 401: "Invalid Token", 500: "Please try again", 503: "Service Unavailable" },
};

let emulator: Emulator;
const cleanups: (() => Promise<void>)[] = [];
// How far the injected sleeps have moved the clock.
let skew = 0;

beforeEach(async () => {
  skew = 0;
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, "now").mockImplementation(() => realNow() + skew);
  emulator = await startEmulator();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await emulator.close();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function storageOf(provider: Provider) {
  const account = emulator.accounts[provider];
  return provider === "linode" ? account.buckets : account.volumes;
}

function withStorage(provider: Provider, count: number, seed = 11) {
  emulator.setAccount(
    provider,
    generateAccount(provider, {
      seed,
      servers: 1,
      volumes: count,
      buckets: count,
      token: emulator.accounts[provider].token,
    }),
  );
  return storageOf(provider);
}

/** A client pointed at `baseUrl` (default: the emulator) whose sleep records the waits and moves the clock. */
function clientFor(provider: Provider, options: Partial<ClientOptions> = {}) {
  const waits: number[] = [];
  const client = new ProviderClient({
    provider,
    token: emulator.accounts[provider].token,
    baseUrl: emulator.baseUrls[provider],
    retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 40, timeoutMs: 2_000 },
    sleep: async (ms) => {
      waits.push(ms);
      skew += ms;
    },
    ...options,
  });
  return { client, waits };
}

function listStorage(client: ProviderClient) {
  const { path, key } = LISTING[client.provider];
  return client.listAll<Record<string, unknown>>(path, key);
}

function requestsOn(provider: Provider, path: string = LISTING[provider].path) {
  return emulator.countRequests({ provider, path });
}

/** The error a call failed with; fails the test if the call succeeded. */
async function rejectionOf(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(ProviderError);
    return e as ProviderError;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

type Reply = { status: number; body: string; headers?: Record<string, string> };

/** A local HTTP server answering every request with `reply`; records the requested URLs. */
async function serve(reply: (url: URL) => Reply) {
  const hits: URL[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://local.invalid");
    hits.push(url);
    const answer = reply(url);
    res.writeHead(answer.status, { "Content-Type": "application/json", ...answer.headers });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  cleanups.push(close);
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, close };
}

/** The provider's own error envelope carrying `message`. */
function errorBody(provider: Provider, status: number, message: string): string {
  switch (provider) {
    case "vultr":
      return JSON.stringify({ error: message, status });
    case "digitalocean":
      return JSON.stringify({ id: "some_error", message });
    case "linode":
      return JSON.stringify({ errors: [{ reason: message }] });
  }
}

describe.each(PROVIDERS)("the %s client", (provider) => {
  const { path, sizeParam, pageMax } = LISTING[provider];

  describe("paging", () => {
    test.each([0, 1, pageMax, pageMax + 1, 2 * pageMax + 1])(
      "returns all %i items in the provider's order, one request per page of the maximum size",
      async (count) => {
        const items = withStorage(provider, count);
        const { client, waits } = clientFor(provider);
        expect(await listStorage(client)).toEqual(items);
        const pages = emulator.requests.filter((r) => r.provider === provider && r.path === path);
        expect(pages.length).toBe(Math.max(1, Math.ceil(count / pageMax)));
        expect(pages.every((r) => r.query[sizeParam] === String(pageMax))).toBe(true);
        expect(waits).toEqual([]);
      },
    );

    test("an answer without the listing's key is an error that is not retried", async () => {
      const { client, waits } = clientFor(provider);
      const err = await rejectionOf(client.listAll(path, "not-the-key"));
      expect(err.message).toContain(`has no "not-the-key" list`);
      expect(err.retryable).toBe(false);
      expect(requestsOn(provider)).toBe(1);
      expect(waits).toEqual([]);
    });
  });

  describe("retries", () => {
    // The emulator's 429 also says, on DigitalOcean and Linode, that the
    // window is used up until Retry-After rounded up to the whole second; the
    // client then waits for that reset as well, but never past it.
    function expectRetryAfterHonoured(waits: number[], retryAfterMs: number) {
      expect(waits[0]).toBe(retryAfterMs);
      if (provider === "vultr") expect(waits).toEqual([retryAfterMs]);
      const total = waits.reduce((a, b) => a + b, 0);
      expect(total).toBeLessThanOrEqual(retryAfterMs + 1_000);
    }

    test("a 429 with Retry-After: 1 waits 1000 ms, then the listing is complete", async () => {
      emulator.addFault({ provider, path, kind: "429", retryAfterSeconds: 1 });
      const { client, waits } = clientFor(provider);
      expect(await listStorage(client)).toEqual(storageOf(provider));
      expectRetryAfterHonoured(waits, 1_000);
      expect(requestsOn(provider)).toBe(2);
    });

    test("a 429 with Retry-After: 0 is retried at once (after the window reset, where one is announced)", async () => {
      emulator.addFault({ provider, path, kind: "429", retryAfterSeconds: 0 });
      const { client, waits } = clientFor(provider);
      expect(await listStorage(client)).toEqual(storageOf(provider));
      expectRetryAfterHonoured(waits, 0);
      expect(requestsOn(provider)).toBe(2);
    });

    test("backoff doubles from baseDelayMs per attempt and is capped at maxDelayMs (503s; reset headers ignored)", async () => {
      // The emulator's 503 carries the provider's rate-limit reset headers
      // (DigitalOcean, Linode); they must not stand in for the backoff.
      emulator.addFault({ provider, path, kind: "503", times: Infinity });
      const retry = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 300 };
      const ceilings = [100, 200, 300, 300];

      const random = vi.spyOn(Math, "random").mockReturnValue(0.999999);
      const high = clientFor(provider, { retry });
      await rejectionOf(listStorage(high.client));
      expect(high.waits.map(Math.round)).toEqual(ceilings);

      random.mockReturnValue(0);
      const low = clientFor(provider, { retry });
      await rejectionOf(listStorage(low.client));
      expect(low.waits).toEqual(ceilings.map((c) => c / 2));

      random.mockRestore();
      const real = clientFor(provider, { retry });
      await rejectionOf(listStorage(real.client));
      expect(real.waits.length).toBe(4);
      real.waits.forEach((wait, i) => {
        expect(wait).toBeGreaterThanOrEqual(ceilings[i] / 2);
        expect(wait).toBeLessThanOrEqual(ceilings[i]);
      });
      expect(requestsOn(provider)).toBe(15);
    });

    test("a persistent 500 stops after maxAttempts with a ProviderError naming status, endpoint and the provider's message", async () => {
      emulator.addFault({ provider, path, kind: "500", times: Infinity });
      const { client, waits } = clientFor(provider, { retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 1 } });
      const err = await rejectionOf(listStorage(client));
      expect(requestsOn(provider)).toBe(4);
      expect(waits.length).toBe(3);
      expect(err).not.toBeInstanceOf(ListingChangedError);
      expect(err).toMatchObject({
        provider,
        endpoint: path,
        status: 500,
        providerMessage: EMULATOR_MESSAGE[provider][500],
        retryable: true,
      });
      expect(err.message).toBe(
        `${PROVIDER_NAMES[provider]} GET ${path} failed: HTTP 500: ${EMULATOR_MESSAGE[provider][500]}`,
      );
    });

    test("a 401 is not retried and carries the provider's own message", async () => {
      emulator.addFault({ provider, path, kind: "401", times: Infinity });
      const { client, waits } = clientFor(provider);
      const err = await rejectionOf(listStorage(client));
      expect(requestsOn(provider)).toBe(1);
      expect(waits).toEqual([]);
      expect(err).toMatchObject({ status: 401, retryable: false, providerMessage: EMULATOR_MESSAGE[provider][401] });
      expect(err.message).toContain("HTTP 401");
    });

    test("a wrong token gets the provider's 401, once", async () => {
      const { client } = clientFor(provider, { token: "not-the-token" });
      const err = await rejectionOf(listStorage(client));
      expect(err).toMatchObject({ status: 401, providerMessage: EMULATOR_MESSAGE[provider][401] });
      expect(requestsOn(provider)).toBe(1);
    });

    test.each([400, 401, 403, 404])("HTTP %i is not retried", async (status) => {
      const server = await serve(() => ({ status, body: errorBody(provider, status, `refused with ${status}`) }));
      const { client, waits } = clientFor(provider, { baseUrl: server.baseUrl });
      const err = await rejectionOf(client.getJson(path));
      expect(server.hits.length).toBe(1);
      expect(waits).toEqual([]);
      expect(err).toMatchObject({ status, retryable: false });
      expect(err.providerMessage).toMatch(new RegExp(`^refused with ${status}`));
    });

    test.each([408, 425, 429, 500, 502, 503, 504])("HTTP %i is retried up to maxAttempts", async (status) => {
      const server = await serve(() => ({ status, body: errorBody(provider, status, "later") }));
      const { client, waits } = clientFor(provider, { baseUrl: server.baseUrl });
      const err = await rejectionOf(client.getJson(path));
      expect(server.hits.length).toBe(3);
      expect(waits.length).toBe(2);
      expect(err).toMatchObject({ status, retryable: true });
    });

    test("a request that gets no answer within timeoutMs is abandoned and retried", async () => {
      emulator.addFault({ provider, path, kind: "timeout", delayMs: 10_000 });
      const { client, waits } = clientFor(provider, { retry: { timeoutMs: 150, maxAttempts: 3 } });
      const started = Date.now();
      expect(await listStorage(client)).toEqual(storageOf(provider));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(requestsOn(provider)).toBe(2);
      expect(waits.length).toBe(1);
    });

    test("a request that never answers fails after maxAttempts timeouts, without an HTTP status", async () => {
      emulator.addFault({ provider, path, kind: "timeout", delayMs: 10_000, times: Infinity });
      const { client } = clientFor(provider, { retry: { timeoutMs: 100, maxAttempts: 2 } });
      const err = await rejectionOf(listStorage(client));
      expect(requestsOn(provider)).toBe(2);
      expect(err).toMatchObject({ status: null, retryable: true });
      expect(err.message).toBe(`${PROVIDER_NAMES[provider]} GET ${path} failed: no answer within 100 ms`);
    });

    test("a connection refused is a retryable network error", async () => {
      const server = await serve(() => ({ status: 200, body: "{}" }));
      await server.close();
      const { client, waits } = clientFor(provider, { baseUrl: server.baseUrl });
      const err = await rejectionOf(client.getJson(path));
      expect(err).toMatchObject({ status: null, retryable: true });
      expect(err.message).toMatch(/network error/);
      expect(waits.length).toBe(2);
    });

    test("a cut-off JSON answer is retried; persistent, it is reported as not valid JSON", async () => {
      emulator.addFault({ provider, path, kind: "malformed" });
      const once = clientFor(provider);
      expect(await listStorage(once.client)).toEqual(storageOf(provider));
      expect(requestsOn(provider)).toBe(2);

      emulator.addFault({ provider, path, kind: "malformed", times: Infinity });
      const always = clientFor(provider);
      const err = await rejectionOf(listStorage(always.client));
      expect(err).toMatchObject({ status: 200, retryable: true });
      expect(err.message).toContain("the answer is not valid JSON");
      expect(requestsOn(provider)).toBe(2 + 3);
    });

    test("a failing second page fails the whole listing; a partial list is never returned", async () => {
      withStorage(provider, pageMax + 10);
      emulator.addFault({ provider, path, page: 2, kind: "503", times: Infinity });
      const { client } = clientFor(provider);
      const err = await rejectionOf(listStorage(client));
      expect(err.status).toBe(503);
      // Page 1 once, page 2 maxAttempts times.
      expect(requestsOn(provider)).toBe(1 + 3);
    });
  });

  describe("the deadline", () => {
    test("already passed: the failed attempt is not followed by any wait", async () => {
      emulator.addFault({ provider, path, kind: "503", times: Infinity });
      const { client, waits } = clientFor(provider, {
        deadline: Date.now() - 1_000,
        retry: { maxAttempts: 5 },
      });
      await rejectionOf(listStorage(client));
      expect(waits).toEqual([]);
      expect(requestsOn(provider)).toBeLessThanOrEqual(1);
    });

    test("near: a backoff that would end past it is not started; the error is thrown instead", async () => {
      emulator.addFault({ provider, path, kind: "503", times: Infinity });
      const { client, waits } = clientFor(provider, {
        deadline: Date.now() + 300,
        retry: { maxAttempts: 5, baseDelayMs: 5_000, maxDelayMs: 5_000 },
      });
      const err = await rejectionOf(listStorage(client));
      expect(err.status).toBe(503);
      expect(waits).toEqual([]);
      expect(requestsOn(provider)).toBe(1);
    });

    test("near: a Retry-After that would end past it is not waited for", async () => {
      emulator.addFault({ provider, path, kind: "429", retryAfterSeconds: 5, times: Infinity });
      const { client, waits } = clientFor(provider, { deadline: Date.now() + 2_000 });
      const err = await rejectionOf(listStorage(client));
      expect(err).toMatchObject({ status: 429, retryAfterMs: 5_000 });
      expect(waits).toEqual([]);
      expect(requestsOn(provider)).toBe(1);
    });

    test("near: a hanging request is cut off at the deadline, not after timeoutMs", async () => {
      emulator.addFault({ provider, path, kind: "timeout", delayMs: 20_000, times: Infinity });
      const { client, waits } = clientFor(provider, {
        deadline: Date.now() + 300,
        retry: { timeoutMs: 30_000, maxAttempts: 5 },
      });
      const started = Date.now();
      const err = await rejectionOf(listStorage(client));
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(err.status).toBeNull();
      expect(err.message).toMatch(/no answer within \d+ ms/);
      expect(waits).toEqual([]);
    });
  });

  describe("a listing that changes while it is read", () => {
    // A local server with a live list of pageMax + 100 items in the provider's
    // envelope; after it serves page 1 the first item is deleted, as if the
    // user deleted it meanwhile. Offset paging then shifts under the reader:
    // page 2 starts one item later, so one live item is never seen.
    async function shrinkingListing(shrinks: "on every read" | "once") {
      let list = Array.from({ length: pageMax + 100 }, (_, i) => ({ id: `item-${i}` }));
      let shrunk = 0;
      const server = await serve((url) => {
        let offset: number;
        if (provider === "vultr") {
          const cursor = url.searchParams.get("cursor");
          offset = cursor ? Number(cursor.slice("offset-".length)) : 0;
        } else {
          offset = (Number(url.searchParams.get("page") ?? "1") - 1) * pageMax;
        }
        const page = offset / pageMax + 1;
        const items = list.slice(offset, offset + pageMax);
        const total = list.length;
        const body =
          provider === "vultr"
            ? { blocks: items, meta: { total, links: { next: offset + pageMax < total ? `offset-${offset + pageMax}` : "", prev: "" } } }
            : provider === "digitalocean"
              ? { volumes: items, links: {}, meta: { total } }
              : { data: items, page, pages: Math.max(1, Math.ceil(total / pageMax)), results: total };
        if (page === 1 && (shrinks === "on every read" || shrunk === 0)) {
          list = list.slice(1);
          shrunk++;
        }
        return { status: 200, body: JSON.stringify(body) };
      });
      return { server, current: () => list };
    }

    test("a total that keeps moving: read once more, then ListingChangedError (not retryable), no partial list", async () => {
      const { server } = await shrinkingListing("on every read");
      const { client } = clientFor(provider, { baseUrl: server.baseUrl });
      const err = await rejectionOf(listStorage(client));
      expect(err).toBeInstanceOf(ListingChangedError);
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(/listing changed while it was read/);
      // Two complete reads of two pages each.
      expect(server.hits.length).toBe(4);
    });

    test("a total that moved once: the second read is used, and no live item is missing", async () => {
      const { server, current } = await shrinkingListing("once");
      const { client } = clientFor(provider, { baseUrl: server.baseUrl });
      const items = await listStorage(client);
      expect(items).toEqual(current());
      expect(server.hits.length).toBe(4);
    });
  });

  describe("the token", () => {
    // A provider may echo what it was sent. The emulator does not, so the
    // token is chosen as a word of the provider's 401 message instead.
    const echoed = { vultr: "missing", digitalocean: "authenticate", linode: "Invalid" }[provider];

    test(`never appears in an error, even when the provider's message contains it ("${echoed}")`, async () => {
      const { client } = clientFor(provider, { token: echoed });
      const err = await rejectionOf(listStorage(client));
      expect(err.status).toBe(401);
      expect(EMULATOR_MESSAGE[provider][401]).toContain(echoed);
      expect(err.message).toContain("[redacted]");
      expect(err.message).not.toContain(echoed);
      expect(err.providerMessage).toBe(EMULATOR_MESSAGE[provider][401].split(echoed).join("[redacted]"));
      expect(String(err.stack)).not.toContain(echoed);
    });
  });
});

describe("parseProviderMessage", () => {
  test("Vultr: the error field", () => {
    expect(parseProviderMessage("vultr", JSON.stringify({ error: "Invalid API token.", status: 401 }))).toBe(
      "Invalid API token.",
    );
  });

  test("DigitalOcean: the message, with the error id in parentheses when there is one", () => {
    expect(parseProviderMessage("digitalocean", JSON.stringify({ id: "forbidden", message: "You may not." }))).toBe(
      "You may not. (forbidden)",
    );
    expect(parseProviderMessage("digitalocean", JSON.stringify({ message: "You may not." }))).toBe("You may not.");
  });

  test("Linode: every reason, each with its field when it has one, joined by semicolons", () => {
    const body = JSON.stringify({
      errors: [{ reason: "Must be between 25 and 500", field: "page_size" }, { reason: "Invalid Token" }],
    });
    expect(parseProviderMessage("linode", body)).toBe("page_size: Must be between 25 and 500; Invalid Token");
  });

  test("a body that is not JSON: its first 200 characters, trimmed", () => {
    expect(parseProviderMessage("vultr", "  <html>502 Bad Gateway</html>\n")).toBe("<html>502 Bad Gateway</html>");
    const long = "x".repeat(500);
    expect(parseProviderMessage("digitalocean", long)).toBe("x".repeat(200));
  });

  test("an empty body says so", () => {
    for (const provider of PROVIDERS) {
      expect(parseProviderMessage(provider, "")).toBe("no error message");
      expect(parseProviderMessage(provider, "   ")).toBe("no error message");
    }
  });

  test("another provider's envelope, or an empty one, falls back to the body text", () => {
    const linodeEnvelope = JSON.stringify({ errors: [{ reason: "Invalid Token" }] });
    expect(parseProviderMessage("vultr", linodeEnvelope)).toBe(linodeEnvelope);
    expect(parseProviderMessage("vultr", JSON.stringify({ error: "" }))).toBe('{"error":""}');
    expect(parseProviderMessage("linode", JSON.stringify({ errors: [] }))).toBe('{"errors":[]}');
    expect(parseProviderMessage("digitalocean", "[1,2]")).toBe("[1,2]");
  });
});

describe("serverRequestedDelayMs", () => {
  // A whole second, so HTTP dates (second precision) convert exactly.
  const now = Date.UTC(2025, 5, 1, 12, 0, 0);
  const headers = (h: Record<string, string>) => new Headers(h);

  test("Retry-After in seconds", () => {
    expect(serverRequestedDelayMs(headers({ "Retry-After": "3" }), now, true)).toBe(3_000);
    expect(serverRequestedDelayMs(headers({ "Retry-After": "0" }), now, true)).toBe(0);
    // On any answer, not only a 429 (a 503 may carry it too).
    expect(serverRequestedDelayMs(headers({ "Retry-After": "2" }), now, false)).toBe(2_000);
  });

  test("Retry-After as an HTTP date: the time until then, never negative", () => {
    const inFive = new Date(now + 5_000).toUTCString();
    expect(serverRequestedDelayMs(headers({ "Retry-After": inFive }), now, true)).toBe(5_000);
    const past = new Date(now - 60_000).toUTCString();
    expect(serverRequestedDelayMs(headers({ "Retry-After": past }), now, true)).toBe(0);
  });

  test("the rate-limit reset (epoch seconds) counts only for a 429 whose window is used up", () => {
    const reset = String(now / 1000 + 30);
    const used = (h: Record<string, string>) => headers(h);
    expect(serverRequestedDelayMs(used({ "ratelimit-remaining": "0", "ratelimit-reset": reset }), now, true)).toBe(30_000);
    expect(serverRequestedDelayMs(used({ "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset }), now, true)).toBe(
      30_000,
    );
    // Not a 429: the reset headers ride on every answer and mean nothing here.
    expect(serverRequestedDelayMs(used({ "ratelimit-remaining": "0", "ratelimit-reset": reset }), now, false)).toBeUndefined();
    // A 429 while the window still has requests left (another, shorter limit): backoff, not the reset.
    expect(serverRequestedDelayMs(used({ "ratelimit-remaining": "12", "ratelimit-reset": reset }), now, true)).toBeUndefined();
    expect(serverRequestedDelayMs(used({ "ratelimit-reset": reset }), now, true)).toBeUndefined();
    // A reset already past: no wait.
    expect(
      serverRequestedDelayMs(used({ "ratelimit-remaining": "0", "ratelimit-reset": String(now / 1000 - 5) }), now, true),
    ).toBe(0);
  });

  test("Retry-After wins over the reset; unreadable values and no headers give nothing", () => {
    const both = headers({ "Retry-After": "1", "ratelimit-remaining": "0", "ratelimit-reset": String(now / 1000 + 600) });
    expect(serverRequestedDelayMs(both, now, true)).toBe(1_000);
    expect(serverRequestedDelayMs(headers({ "Retry-After": "soon" }), now, false)).toBeUndefined();
    expect(
      serverRequestedDelayMs(
        headers({ "Retry-After": "soon", "ratelimit-remaining": "0", "ratelimit-reset": String(now / 1000 + 7) }),
        now,
        true,
      ),
    ).toBe(7_000);
    expect(serverRequestedDelayMs(headers({ "ratelimit-remaining": "0", "ratelimit-reset": "later" }), now, true)).toBeUndefined();
    expect(serverRequestedDelayMs(headers({}), now, true)).toBeUndefined();
  });
});

describe("exhaustedWindowResetMs", () => {
  const now = Date.UTC(2025, 5, 1, 12, 0, 0);

  test("the time to the reset when no request is left in the window, on any answer", () => {
    const h = new Headers({ "ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": String(now / 1000 + 42) });
    expect(exhaustedWindowResetMs(h, now)).toBe(42_000);
    const linode = new Headers({ "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": String(now / 1000 + 3) });
    expect(exhaustedWindowResetMs(linode, now)).toBe(3_000);
  });

  test("nothing while requests are left, or when a header is missing or unreadable", () => {
    const reset = String(now / 1000 + 42);
    expect(exhaustedWindowResetMs(new Headers({ "ratelimit-remaining": "1", "ratelimit-reset": reset }), now)).toBeUndefined();
    expect(exhaustedWindowResetMs(new Headers({ "ratelimit-reset": reset }), now)).toBeUndefined();
    expect(exhaustedWindowResetMs(new Headers({ "ratelimit-remaining": "0" }), now)).toBeUndefined();
    expect(
      exhaustedWindowResetMs(new Headers({ "ratelimit-remaining": "0", "ratelimit-reset": "soon" }), now),
    ).toBeUndefined();
  });
});

describe.each(["digitalocean", "linode"] as const)("rate-limit pacing on %s", (provider) => {
  const names =
    provider === "digitalocean"
      ? { remaining: "ratelimit-remaining", reset: "ratelimit-reset" }
      : { remaining: "X-RateLimit-Remaining", reset: "X-RateLimit-Reset" };
  const resetIn = (seconds: number) => String(Math.ceil(Date.now() / 1000) + seconds);

  test("a 429 without Retry-After, window used up: waits until the window resets, once", async () => {
    let served = 0;
    const server = await serve(() =>
      served++ === 0
        ? {
            status: 429,
            body: errorBody(provider, 429, "slow down"),
            headers: { [names.remaining]: "0", [names.reset]: resetIn(2) },
          }
        : { status: 200, body: JSON.stringify({ ok: true }) },
    );
    const { client, waits } = clientFor(provider, { baseUrl: server.baseUrl });
    expect(await client.getJson("/anything")).toEqual({ ok: true });
    expect(waits.length).toBe(1);
    expect(waits[0]).toBeGreaterThan(1_000);
    expect(waits[0]).toBeLessThanOrEqual(3_000);
  });

  test("a 429 while the window still has requests left meets backoff, not the (hourly) reset", async () => {
    let served = 0;
    const server = await serve(() =>
      served++ === 0
        ? {
            status: 429,
            body: errorBody(provider, 429, "slow down"),
            headers: { [names.remaining]: "250", [names.reset]: resetIn(3_600) },
          }
        : { status: 200, body: JSON.stringify({ ok: true }) },
    );
    const { client, waits } = clientFor(provider, { baseUrl: server.baseUrl });
    expect(await client.getJson("/anything")).toEqual({ ok: true });
    expect(waits.length).toBe(1);
    expect(waits[0]).toBeLessThanOrEqual(40);
  });

  test("a successful answer that uses up the window holds the next request until the reset", async () => {
    const server = await serve(() => ({
      status: 200,
      body: JSON.stringify({ ok: true }),
      headers: { [names.remaining]: "0", [names.reset]: resetIn(2) },
    }));
    const { client, waits } = clientFor(provider, { baseUrl: server.baseUrl });
    await client.getJson("/first");
    expect(waits).toEqual([]);
    await client.getJson("/second");
    expect(waits.length).toBe(1);
    expect(waits[0]).toBeGreaterThan(1_000);
    expect(waits[0]).toBeLessThanOrEqual(3_000);
    expect(server.hits.map((u) => u.pathname)).toEqual(["/first", "/second"]);
  });

  test("a window that resets only after the deadline ends the listing with a 429 instead of waiting", async () => {
    const server = await serve(() => ({
      status: 200,
      body: JSON.stringify({ ok: true }),
      headers: { [names.remaining]: "0", [names.reset]: resetIn(600) },
    }));
    const { client, waits } = clientFor(provider, { baseUrl: server.baseUrl, deadline: Date.now() + 60_000 });
    await client.getJson("/first");
    const err = await rejectionOf(client.getJson("/second"));
    expect(err).toMatchObject({ status: 429, retryable: false });
    expect(err.message).toMatch(/rate limit resets after this sync's time budget/);
    expect(waits).toEqual([]);
    expect(server.hits.length).toBe(1);
  });
});

/** Every page `pages()` yields, in the order it yields them. */
async function collectPages<T>(pages: AsyncGenerator<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

function storagePages(client: ProviderClient) {
  const { path, key } = LISTING[client.provider];
  return client.pages<Record<string, unknown>>(path, key);
}

/** Lets the emulator and the client run for a moment (never asserted on). */
function settle(ms = 150) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type PagingFault = Omit<Fault, "provider" | "path">;

// Answers whose paging data is missing or unusable, per provider.
const UNUSABLE_PAGING: Record<Provider, PagingFault[]> = {
  digitalocean: [
    { kind: "no-total" },
    { kind: "bad-total", total: "25" },
    { kind: "bad-total", total: null },
    { kind: "bad-total", total: -1 },
    { kind: "bad-total", total: 2.5 },
  ],
  linode: [
    { kind: "no-total" },
    { kind: "bad-total", total: "60" },
    { kind: "bad-total", total: -1 },
    { kind: "bad-total", total: 2.5 },
    { kind: "bad-pages" },
    { kind: "bad-pages", pages: "1" },
  ],
  vultr: [
    { kind: "no-total" },
    { kind: "bad-total", total: "25" },
    { kind: "bad-total", total: -1 },
    { kind: "bad-total", total: 2.5 },
    { kind: "no-next" },
  ],
};

describe.each(PROVIDERS)("the %s pager", (provider) => {
  const { path, pageMax } = LISTING[provider];
  // Requests a numbered pager may have under way when a page shows it is broken.
  const inFlight = provider === "vultr" ? 1 : DEFAULT_PAGE_CONCURRENCY;

  describe("paging data that is missing or unusable", () => {
    test.each(UNUSABLE_PAGING[provider])("fails as incomplete, once, never as complete (%j)", async (fault) => {
      emulator.addFault({ provider, path, times: Infinity, ...fault });
      const { client } = clientFor(provider);
      const err = await rejectionOf(listStorage(client));
      expect(err).toBeInstanceOf(IncompleteListingError);
      expect(err.retryable).toBe(false);
      expect(requestsOn(provider)).toBe(1);
      const streamed = await rejectionOf(collectPages(storagePages(clientFor(provider).client)));
      expect(streamed).toBeInstanceOf(IncompleteListingError);
    });

    test("a page without usable paging data in the middle of a listing fails it", async () => {
      withStorage(provider, 3 * pageMax);
      emulator.addFault({ provider, path, page: 2, kind: "no-total", times: Infinity });
      const { client } = clientFor(provider);
      const err = await rejectionOf(listStorage(client));
      expect(err).toBeInstanceOf(IncompleteListingError);
      expect(requestsOn(provider)).toBeLessThanOrEqual(3);
    });
  });

  describe("a pager that does not add up stops within a few requests", () => {
    test("a total of ten million with empty pages: one request, then ListingTooLargeError", async () => {
      withStorage(provider, 10);
      emulator.addFault({ provider, path, kind: "bad-total", total: 10_000_000, times: Infinity });
      const { client } = clientFor(provider);
      const err = await rejectionOf(listStorage(client));
      expect(err).toBeInstanceOf(ListingTooLargeError);
      expect(err).toBeInstanceOf(IncompleteListingError);
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(/10000000 items, more than the 100000/);
      expect(requestsOn(provider)).toBe(1);
    });

    test("a total under the cap whose pages come back empty fails on the first empty page", async () => {
      withStorage(provider, pageMax);
      emulator.addFault({ provider, path, kind: "bad-total", total: 200 * pageMax, times: Infinity });
      const { client } = clientFor(provider);
      const err = await rejectionOf(listStorage(client));
      expect(err).toBeInstanceOf(IncompleteListingError);
      expect(err.message).toMatch(/page 2/);
      expect(requestsOn(provider)).toBeLessThanOrEqual(1 + inFlight);
    });

    test("a page shorter than the page size before the last page fails the listing", async () => {
      withStorage(provider, 8 * pageMax);
      emulator.addFault({ provider, path, page: 2, kind: "short-page", times: Infinity });
      const { client } = clientFor(provider);
      const err = await rejectionOf(listStorage(client));
      expect(err).toBeInstanceOf(IncompleteListingError);
      expect(err).not.toBeInstanceOf(ListingChangedError);
      expect(err.message).toMatch(/page 2 .*has 4?\d+ items/);
      expect(requestsOn(provider)).toBeLessThanOrEqual(1 + inFlight);
    });

    test("a listing above maxItems fails clearly after its first page", async () => {
      withStorage(provider, pageMax + 1);
      const { client } = clientFor(provider, { maxItems: pageMax });
      const err = await rejectionOf(listStorage(client));
      expect(err).toBeInstanceOf(ListingTooLargeError);
      expect(err.message).toContain(`reports ${pageMax + 1} items, more than the ${pageMax} a sync reads`);
      expect(requestsOn(provider)).toBe(1);
    });
  });

  describe("pages()", () => {
    test("yields every page once; together they are the listing, and it returns normally", async () => {
      const items = withStorage(provider, 2 * pageMax + 1);
      const { client } = clientFor(provider);
      const pages = await collectPages(storagePages(client));
      expect(pages.map((p) => p.length).sort((a, b) => a - b)).toEqual([1, pageMax, pageMax]);
      const byId = (a: Record<string, unknown>, b: Record<string, unknown>) =>
        JSON.stringify(a).localeCompare(JSON.stringify(b));
      expect(pages.flat().sort(byId)).toEqual([...items].sort(byId));
      expect(requestsOn(provider)).toBe(3);
    });

    test("an empty listing is one empty page", async () => {
      withStorage(provider, 0);
      const { client } = clientFor(provider);
      expect(await collectPages(storagePages(client))).toEqual([[]]);
    });

    test("a page that fails after others were yielded makes the generator throw, not return", async () => {
      withStorage(provider, 4 * pageMax);
      emulator.addFault({ provider, path, page: 3, kind: "short-page", times: Infinity });
      const { client } = clientFor(provider);
      const seen: number[] = [];
      const err = await rejectionOf(
        (async () => {
          for await (const page of storagePages(client)) seen.push(page.length);
        })(),
      );
      expect(err).toBeInstanceOf(IncompleteListingError);
      expect(seen.length).toBeLessThan(4);
    });

    test("holds at most `concurrency` pages not yet consumed, and starts no request after return()", async () => {
      withStorage(provider, 10 * pageMax);
      const { client } = clientFor(provider, { concurrency: 2 });
      const pages = storagePages(client);
      const first = await pages.next();
      expect(first.value).toHaveLength(pageMax);
      await settle();
      const held = requestsOn(provider);
      expect(held).toBeLessThanOrEqual(provider === "vultr" ? 1 : 1 + 2);
      await pages.next();
      await settle();
      expect(requestsOn(provider)).toBeLessThanOrEqual(provider === "vultr" ? 2 : 1 + 3);
      await pages.return();
      const atReturn = requestsOn(provider);
      await settle();
      expect(requestsOn(provider)).toBe(atReturn);
      expect(atReturn).toBeLessThan(10);
    });

    test("a listing whose total moves while it is streamed ends in ListingChangedError", async () => {
      withStorage(provider, 2 * pageMax);
      emulator.addFault({ provider, path, page: 2, kind: "bad-total", total: 2 * pageMax - 1, times: Infinity });
      const { client } = clientFor(provider);
      const err = await rejectionOf(collectPages(storagePages(client)));
      expect(err).toBeInstanceOf(ListingChangedError);
      expect(requestsOn(provider)).toBe(2);
    });
  });

  if (provider !== "vultr") {
    // Until a page after the first has shown its size only one is fetched
    // ahead (a small page 1 must not let several huge pages in at once); from
    // then on pages are fetched side by side and yielded as they arrive.
    test("numbered pages are yielded as they arrive: a slow page 3 does not hold back page 4", async () => {
      withStorage(provider, 4 * pageMax);
      emulator.addFault({ provider, path, page: 3, kind: "timeout", delayMs: 1_500 });
      const { client } = clientFor(provider);
      const pages = storagePages(client);
      await pages.next();
      await pages.next();
      const third = await pages.next();
      expect(third.value).toHaveLength(pageMax);
      const page3 = emulator.requests.find((r) => r.path === path && r.query.page === "3");
      expect(page3?.status).toBe(0);
      expect((await collectPages(pages)).length).toBe(1);
    });
  }

  describe("answer size", () => {
    test("a huge answer with Content-Length is refused unread, not retried", async () => {
      emulator.addFault({ provider, path, kind: "huge-body", bytes: 300 * 1024 * 1024, times: Infinity });
      const { client, waits } = clientFor(provider);
      const err = await rejectionOf(listStorage(client));
      expect(err).toBeInstanceOf(ResponseTooLargeError);
      expect(err).toMatchObject({ status: 200, retryable: false });
      expect(err.message).toContain(`larger than ${8 * 1024 * 1024} bytes (Content-Length ${300 * 1024 * 1024})`);
      expect(requestsOn(provider)).toBe(1);
      expect(waits).toEqual([]);
    });

    test("a huge answer without Content-Length is cut off at the cap, not retried", async () => {
      emulator.addFault({ provider, path, kind: "huge-body", bytes: 64 * 1024 * 1024, contentLength: false });
      const { client } = clientFor(provider, { maxBodyBytes: 1024 * 1024 });
      const err = await rejectionOf(listStorage(client));
      expect(err).toBeInstanceOf(ResponseTooLargeError);
      expect(err.retryable).toBe(false);
      expect(requestsOn(provider)).toBe(1);
    });

    test("an answer under the cap is read whole", async () => {
      const items = withStorage(provider, pageMax);
      const { client } = clientFor(provider, { maxBodyBytes: 4 * 1024 * 1024 });
      expect(await listStorage(client)).toEqual(items);
    });
  });

  describe("echoes of the token", () => {
    // Characters that URL encoding changes, and enough length for base64 and hex to differ from it.
    const token = `${provider}/tok+en=with&odd chars?0123456789abcdefABCDEF`;
    const forms: Record<string, (t: string) => string> = {
      plain: (t) => t,
      partial: (t) => t.slice(Math.floor(t.length / 2)),
      base64: (t) => btoa(t),
      "base64-bearer": (t) => btoa(`Bearer ${t}`),
      url: (t) => encodeURIComponent(t),
      hex: (t) => Buffer.from(t).toString("hex"),
    };

    function expectNoEcho(text: string) {
      for (const form of Object.values(forms)) {
        const echoed = form(token);
        for (let i = 0; i + 8 <= echoed.length; i++) expect(text).not.toContain(echoed.slice(i, i + 8));
      }
    }

    beforeEach(() => {
      emulator.setAccount(provider, generateAccount(provider, { seed: 5, servers: 1, volumes: 3, buckets: 3, token }));
    });

    test.each(
      (["plain", "partial", "base64", "base64-bearer", "url", "hex"] as const).flatMap((echo) =>
        [0, 150, 280, 295, 299, 300].map((at) => ({ echo, at })),
      ),
    )("never leave the client ($echo at $at)", async ({ echo, at }) => {
      emulator.addFault({ provider, path, kind: "echo-token", echo, at });
      const { client } = clientFor(provider);
      const err = await rejectionOf(listStorage(client));
      expect(err.status).toBe(400);
      expectNoEcho(err.message);
      expectNoEcho(err.providerMessage);
      expectNoEcho(String(err.stack));
      expect(err.providerMessage.length).toBeLessThanOrEqual(300);
      if (at < 280) expect(err.providerMessage).toContain("[redacted]");
      // Not even the first characters of an echo cut in two by the 300-character limit.
      expect(err.providerMessage.slice(at, at + 3)).not.toBe(forms[echo](token).slice(0, 3));
    });

    test("nor through a 200 that is not JSON", async () => {
      emulator.addFault({ provider, path, kind: "echo-token", status: 200, at: 5, times: Infinity });
      const { client } = clientFor(provider);
      const err = await rejectionOf(listStorage(client));
      expect(err.message).toContain("not valid JSON");
      expectNoEcho(err.message);
    });
  });
});

// Each provider's single-item endpoints through its API class.
const SINGLE_ITEMS = {
  vultr: [
    {
      name: "block",
      path: (id: string) => `/v2/blocks/${id}`,
      existing: (e: Emulator) => e.accounts.vultr.volumes[0],
      get: (c: ProviderClient, item: Record<string, unknown>) => new VultrAPI(c).getBlock(String(item.id)),
      missing: (c: ProviderClient) => new VultrAPI(c).getBlock("0c0c0c0c-gone"),
      traversal: (c: ProviderClient) => new VultrAPI(c).getBlock("../account"),
    },
    {
      name: "instance",
      path: (id: string) => `/v2/instances/${id}`,
      existing: (e: Emulator) => e.accounts.vultr.servers[0],
      get: (c: ProviderClient, item: Record<string, unknown>) => new VultrAPI(c).getInstance(String(item.id)),
      missing: (c: ProviderClient) => new VultrAPI(c).getInstance("0c0c0c0c-gone"),
      traversal: (c: ProviderClient) => new VultrAPI(c).getInstance("../account"),
    },
  ],
  digitalocean: [
    {
      name: "volume",
      path: (id: string) => `/v2/volumes/${id}`,
      existing: (e: Emulator) => e.accounts.digitalocean.volumes[0],
      get: (c: ProviderClient, item: Record<string, unknown>) => new DigitalOceanAPI(c).getVolume(String(item.id)),
      missing: (c: ProviderClient) => new DigitalOceanAPI(c).getVolume("0c0c0c0c-gone"),
      traversal: (c: ProviderClient) => new DigitalOceanAPI(c).getVolume("../account"),
    },
    {
      name: "droplet",
      path: (id: string) => `/v2/droplets/${id}`,
      existing: (e: Emulator) => e.accounts.digitalocean.servers[0],
      get: (c: ProviderClient, item: Record<string, unknown>) => new DigitalOceanAPI(c).getDroplet(Number(item.id)),
      missing: (c: ProviderClient) => new DigitalOceanAPI(c).getDroplet(1),
      traversal: (c: ProviderClient) => new DigitalOceanAPI(c).getDroplet("../account"),
    },
  ],
  linode: [
    {
      name: "instance",
      path: (id: string) => `/v4/linode/instances/${id}`,
      existing: (e: Emulator) => e.accounts.linode.servers[0],
      get: (c: ProviderClient, item: Record<string, unknown>) => new LinodeAPI(c).getLinode(Number(item.id)),
      missing: (c: ProviderClient) => new LinodeAPI(c).getLinode(1),
      traversal: (c: ProviderClient) => new LinodeAPI(c).getLinode("../../profile"),
    },
    {
      name: "bucket",
      path: (id: string) => `/v4/object-storage/buckets/${id}`,
      existing: (e: Emulator) => e.accounts.linode.buckets[0],
      get: (c: ProviderClient, item: Record<string, unknown>) =>
        new LinodeAPI(c).getBucket(String(item.region), String(item.label)),
      missing: (c: ProviderClient) => new LinodeAPI(c).getBucket("us-east", "no such/bucket"),
      traversal: (c: ProviderClient) => new LinodeAPI(c).getBucket("..", "../../profile"),
    },
  ],
} as const;

/** The item's part of its path: the id, or for a Linode bucket its region and label. */
function itemPart(item: Record<string, unknown>): string {
  return "label" in item && "cluster" in item
    ? `${String(item.region)}/${encodeURIComponent(String(item.label))}`
    : String(item.id);
}

describe.each(PROVIDERS.flatMap((provider) => SINGLE_ITEMS[provider].map((item) => ({ provider, ...item }))))(
  "getItem: the $provider $name",
  ({ provider, existing, get, missing, traversal, path }) => {
    test("is the item itself when it exists", async () => {
      const item = existing(emulator);
      const { client } = clientFor(provider);
      expect(await get(client, item)).toEqual(item);
      expect(emulator.requests.map((r) => r.path)).toEqual([path(itemPart(item))]);
    });

    test("is null when the provider answers 404, after one request", async () => {
      const { client, waits } = clientFor(provider);
      expect(await missing(client)).toBeNull();
      expect(emulator.requests.map((r) => r.status)).toEqual([404]);
      expect(waits).toEqual([]);
    });

    test("keeps its path parts inside the item's path (URL-encoded)", async () => {
      const { client } = clientFor(provider);
      expect(await traversal(client)).toBeNull();
      expect(emulator.requests.map((r) => r.status)).toEqual([404]);
    });

    test("retries a 503 like any request, then throws ProviderError", async () => {
      const item = existing(emulator);
      const { client } = clientFor(provider);
      const itemPath = path(itemPart(item));
      emulator.addFault({ provider, path: itemPath, kind: "503" });
      expect(await get(client, item)).toEqual(item);
      emulator.addFault({ provider, path: itemPath, kind: "503", times: Infinity });
      const err = await rejectionOf(get(client, item));
      expect(err).toMatchObject({ status: 503, retryable: true });
      expect(emulator.countRequests({ provider, path: itemPath })).toBe(2 + 3);
    });

    test("throws ProviderError on a 401, without retrying", async () => {
      const item = existing(emulator);
      const { client } = clientFor(provider, { token: "not-the-token" });
      const err = await rejectionOf(get(client, item));
      expect(err).toMatchObject({ status: 401, retryable: false });
      expect(emulator.requests.length).toBe(1);
    });
  },
);

describe("redactSecret", () => {
  const secret = "dop_v1_0123456789abcdef0123456789abcdef";

  test("redacts the secret, any piece of it of 8 characters or more, and its encoded forms", () => {
    expect(redactSecret(`a ${secret} b`, secret)).toBe("a [redacted] b");
    expect(redactSecret(`tail ${secret.slice(-8)}.`, secret)).toBe("tail [redacted].");
    expect(redactSecret(`head ${secret.slice(0, 8)}`, secret)).toBe("head [redacted]");
    // The last base64 characters carry a few bits of the secret at most.
    expect(redactSecret(`b64 ${btoa(secret)}`, secret)).toMatch(/^b64 \[redacted\].{0,4}$/);
    expect(redactSecret(`auth ${btoa(`Bearer ${secret}`)}`, secret)).toMatch(/^auth \[redacted\].{0,4}$/);
    expect(redactSecret(`hex ${Buffer.from(secret).toString("hex").toUpperCase()}`, secret)).toBe("hex [redacted]");
    // The secret inside a longer base64 string, at each byte alignment.
    for (const lead of ["", "a", "ab"]) {
      const encoded = btoa(`${lead}user:${secret}:rest`);
      expect(redactSecret(encoded, secret)).toContain("[redacted]");
      const kept = redactSecret(encoded, secret).split("[redacted]").join("");
      expect(kept.length).toBeLessThan(20);
    }
  });

  test("leaves pieces shorter than 8 characters and unrelated text alone", () => {
    expect(redactSecret(`id ${secret.slice(0, 7)} ok`, secret)).toBe(`id ${secret.slice(0, 7)} ok`);
    expect(redactSecret("Unable to authenticate you.", secret)).toBe("Unable to authenticate you.");
  });

  test("a URL-encoded secret with reserved characters is redacted in either hex case", () => {
    const odd = "tok/en+with=odd chars&more";
    const encoded = encodeURIComponent(odd);
    expect(redactSecret(`q=${encoded}`, odd)).toBe("q=[redacted]");
    expect(redactSecret(`q=${encoded.toLowerCase()}`, odd)).toContain("[redacted]");
  });

  test("parseProviderMessage redacts before it cuts, so a secret across the cut leaves nothing behind", () => {
    const message = `${"x".repeat(295)}${secret} trailing`;
    const parsed = parseProviderMessage("vultr", JSON.stringify({ error: message }), secret);
    expect(parsed).toBe(`${"x".repeat(295)}[redacted] trailing`.slice(0, 299) + "…");
    expect(parsed).not.toContain(secret.slice(0, 5));
  });
});

describe("the Vultr cursor", () => {
  const { path, pageMax } = LISTING.vultr;

  test("that goes back to an earlier page (A -> B -> A) fails as incomplete on the page that shows it", async () => {
    withStorage("vultr", 4 * pageMax);
    emulator.addFault({ provider: "vultr", path, page: 3, kind: "cycle-cursor", times: Infinity });
    const { client } = clientFor("vultr");
    const err = await rejectionOf(listStorage(client));
    expect(err).toBeInstanceOf(IncompleteListingError);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/cursor after page 3 goes back/);
    expect(requestsOn("vultr")).toBe(3);
  });

  test("that repeats itself fails after the page that repeats it", async () => {
    withStorage("vultr", 4 * pageMax);
    emulator.addFault({ provider: "vultr", path, page: 2, kind: "cycle-cursor", times: Infinity });
    const { client } = clientFor("vultr");
    const err = await rejectionOf(listStorage(client));
    expect(err).toBeInstanceOf(IncompleteListingError);
    expect(requestsOn("vultr")).toBe(2);
  });

  test("that goes on past the total fails before asking for the extra page", async () => {
    const server = await serve((url) => {
      const blocks = Array.from({ length: url.searchParams.has("cursor") ? 1 : pageMax }, (_, i) => ({ id: `b-${i}` }));
      return { status: 200, body: JSON.stringify({ blocks, meta: { total: pageMax, links: { next: "more", prev: "" } } }) };
    });
    const { client } = clientFor("vultr", { baseUrl: server.baseUrl });
    const err = await rejectionOf(listStorage(client));
    expect(err).toBeInstanceOf(IncompleteListingError);
    expect(err.message).toMatch(/more pages follow page 1/);
    expect(server.hits.length).toBe(1);
  });
});

describe.each(PROVIDERS)("getItem on %s", (provider) => {
  const endpoint = { vultr: "/v2/blocks/x", digitalocean: "/v2/volumes/x", linode: "/v4/linode/instances/1" }[provider];

  test("a 404 that is not the provider's own (a proxy, a wrong base URL) throws instead of saying the item is gone", async () => {
    const html = await serve(() => ({ status: 404, body: "<html>Not Found</html>" }));
    const err = await rejectionOf(clientFor(provider, { baseUrl: html.baseUrl }).client.getItem(endpoint, "item"));
    expect(err.status).toBe(404);
    const wrongPrefix = clientFor(provider, { baseUrl: `http://127.0.0.1:${emulator.port}/nowhere` });
    expect((await rejectionOf(wrongPrefix.client.getItem(endpoint, "item"))).status).toBe(404);
  });

  test("a 200 without the item's key is an error, not a missing item", async () => {
    const server = await serve(() => ({ status: 200, body: JSON.stringify({ something: {} }) }));
    const err = await rejectionOf(clientFor(provider, { baseUrl: server.baseUrl }).client.getItem(endpoint, "item"));
    expect(err).toMatchObject({ status: 200, retryable: false });
    expect(err.message).toContain('has no "item" item');
  });
});

describe("network errors", () => {
  test("carry no piece of the token, even when the failure quotes the URL it was sent to", async () => {
    const token = "dop_v1_abcdef0123456789abcdef0123456789";
    // fetch refuses a URL with credentials and quotes the whole URL in its message.
    const { client } = clientFor("digitalocean", {
      token,
      baseUrl: `http://user:${token}@127.0.0.1:${emulator.port}/digitalocean`,
      retry: { maxAttempts: 1 },
    });
    const err = await rejectionOf(client.getJson("/v2/volumes"));
    expect(err).toMatchObject({ status: null });
    expect(err.message).toMatch(/network error/);
    expect(err.message).toContain("[redacted]");
    for (let i = 0; i + 8 <= token.length; i++) expect(err.message).not.toContain(token.slice(i, i + 8));
  });
});

describe("a refusal for a scope the token lacks", () => {
  const noScope = JSON.stringify({ errors: [{ reason: "Your OAuth token is not authorized to use this endpoint." }] });

  test("is Linode's 401 saying the token may not use the endpoint, and nothing else", () => {
    expect(isScopeRefusal("linode", 401, noScope)).toBe(true);
    expect(isScopeRefusal("linode", 401, JSON.stringify({ errors: [{ reason: "Invalid Token" }] }))).toBe(false);
    // One reason that is not about the scope makes it a refusal of the token.
    expect(isScopeRefusal("linode", 401, JSON.stringify({ errors: [{ reason: "Invalid Token" }, { reason: "Your OAuth token is not authorized to use this endpoint." }] }))).toBe(false);
    expect(isScopeRefusal("linode", 401, JSON.stringify({ errors: [] }))).toBe(false);
    expect(isScopeRefusal("linode", 401, "not authorized to use this endpoint")).toBe(false);
    expect(isScopeRefusal("linode", 403, noScope)).toBe(false);
    expect(isScopeRefusal("vultr", 401, noScope)).toBe(false);
    expect(isScopeRefusal("digitalocean", 401, noScope)).toBe(false);
  });

  test("is marked on the error the client throws, which still says HTTP 401 and is not retried", async () => {
    const emulator = await startEmulator();
    try {
      emulator.addFault({ provider: "linode", path: "/v4/volumes", kind: "no-scope", times: Infinity });
      const client = new ProviderClient({ provider: "linode", token: emulator.accounts.linode.token, baseUrl: emulator.baseUrls.linode, retry: { baseDelayMs: 1 } });
      const error = await new LinodeAPI(client).volumePages().next().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ status: 401, scopeRefused: true, retryable: false });
      expect(emulator.countRequests({ path: "/v4/volumes" })).toBe(1);
      const refused = await new LinodeAPI(new ProviderClient({ provider: "linode", token: "x".repeat(64), baseUrl: emulator.baseUrls.linode }))
        .volumePages()
        .next()
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({ status: 401 });
      expect((refused as ProviderError).scopeRefused).toBeUndefined();
    } finally {
      await emulator.close();
    }
  });
});
