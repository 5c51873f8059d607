// Behaviour of the provider emulator over real HTTP: envelopes, paging maxima, auth errors,
// rate limits, injected faults, request records and shutdown.
import { Buffer } from "node:buffer";
import { createHash, createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { generateAccount, type Provider } from "./accounts";
import { startEmulator, type Emulator, type EmulatorOptions } from "./server";

const running: Emulator[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
});

async function start(opts: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator({ port: 0, ...opts });
  running.push(emulator);
  return emulator;
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(
  emu: Emulator,
  provider: Provider,
  pathAndQuery: string,
  init: { token?: string | null; method?: string } = {},
): Promise<Reply> {
  const token = init.token === undefined ? emu.accounts[provider].token : init.token;
  const headers: Record<string, string> = token === null ? {} : { Authorization: `Bearer ${token}` };
  const res = await fetch(`${emu.baseUrls[provider]}${pathAndQuery}`, { method: init.method ?? "GET", headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

async function fetchUrl(url: string, token: string): Promise<Reply> {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) };
}

describe("Vultr paging", () => {
  it("walks 1,200 blocks in three cursor pages of 500 and ends with an empty next cursor", async () => {
    const emu = await start({ accounts: { vultr: generateAccount("vultr", { seed: 7, servers: 5, volumes: 1200 }) } });
    const seen: string[] = [];
    const nexts: string[] = [];
    let cursor = "";
    let pages = 0;
    do {
      const query = new URLSearchParams({ per_page: "500" });
      if (cursor) query.set("cursor", cursor);
      const page = await call(emu, "vultr", `/v2/blocks?${query.toString()}`);
      expect(page.status).toBe(200);
      expect(page.json.meta.total).toBe(1200);
      seen.push(...page.json.blocks.map((b: { id: string }) => b.id));
      cursor = page.json.meta.links.next;
      nexts.push(cursor);
      pages++;
    } while (cursor !== "" && pages < 10);
    expect(pages).toBe(3);
    expect(nexts[2]).toBe("");
    expect(seen).toHaveLength(1200);
    expect(new Set(seen).size).toBe(1200);
    expect(seen).toEqual(emu.accounts.vultr.volumes.map((v) => v.id));
  });

  it("clamps per_page above 500 to 500 and defaults to 100", async () => {
    const emu = await start({ accounts: { vultr: generateAccount("vultr", { seed: 8, servers: 2, volumes: 700 }) } });
    const big = await call(emu, "vultr", "/v2/blocks?per_page=1000");
    expect(big.json.blocks).toHaveLength(500);
    const plain = await call(emu, "vultr", "/v2/blocks");
    expect(plain.json.blocks).toHaveLength(100);
    expect(plain.json.meta.links.prev).toBe("");
    expect(plain.json.meta.links.next).not.toBe("");
  });

  it("gives a prev cursor on later pages that leads back to the previous page", async () => {
    const emu = await start({ accounts: { vultr: generateAccount("vultr", { seed: 9, servers: 2, volumes: 30 }) } });
    const first = await call(emu, "vultr", "/v2/blocks?per_page=10");
    const second = await call(emu, "vultr", `/v2/blocks?per_page=10&cursor=${encodeURIComponent(first.json.meta.links.next)}`);
    const back = await call(emu, "vultr", `/v2/blocks?per_page=10&cursor=${encodeURIComponent(second.json.meta.links.prev)}`);
    expect(back.json.blocks).toEqual(first.json.blocks);
  });

  it("answers 400 with a Vultr error body to a cursor it never issued", async () => {
    const emu = await start();
    const res = await call(emu, "vultr", "/v2/blocks?cursor=not-a-cursor");
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: expect.any(String), status: 400 });
  });

  it("lists instances under the instances key, including the default_password secret", async () => {
    const emu = await start();
    const res = await call(emu, "vultr", "/v2/instances");
    expect(res.status).toBe(200);
    expect(res.json.instances).toHaveLength(emu.accounts.vultr.servers.length);
    expect(res.json.instances[0].default_password).toEqual(expect.any(String));
    expect(res.json.meta).toEqual({ total: emu.accounts.vultr.servers.length, links: { next: "", prev: "" } });
  });

  it("serves the account endpoint in Vultr's shape", async () => {
    const emu = await start();
    const res = await call(emu, "vultr", "/v2/account");
    expect(Object.keys(res.json.account).sort()).toEqual(
      ["acls", "balance", "email", "last_payment_amount", "last_payment_date", "name", "pending_charges"].sort(),
    );
  });
});

describe("DigitalOcean paging", () => {
  it("pages 450 volumes at per_page 200 into three pages with absolute links and no next link on the last", async () => {
    const emu = await start({
      accounts: { digitalocean: generateAccount("digitalocean", { seed: 3, servers: 6, volumes: 450 }) },
    });
    const token = emu.accounts.digitalocean.token;
    const first = await call(emu, "digitalocean", "/v2/volumes?per_page=200");
    expect(first.json.meta).toEqual({ total: 450 });
    expect(first.json.volumes).toHaveLength(200);
    expect(first.json.links.pages.first).toBeUndefined();
    expect(first.json.links.pages.next).toBe(`${emu.baseUrls.digitalocean}/v2/volumes?page=2&per_page=200`);
    expect(first.json.links.pages.last).toBe(`${emu.baseUrls.digitalocean}/v2/volumes?page=3&per_page=200`);

    const second = await fetchUrl(first.json.links.pages.next, token);
    expect(second.json.volumes).toHaveLength(200);
    expect(Object.keys(second.json.links.pages).sort()).toEqual(["first", "last", "next", "prev"]);

    const third = await fetchUrl(second.json.links.pages.next, token);
    expect(third.json.volumes).toHaveLength(50);
    expect(third.json.links.pages.next).toBeUndefined();
    expect(third.json.links.pages.prev).toBe(`${emu.baseUrls.digitalocean}/v2/volumes?page=2&per_page=200`);

    const ids = [...first.json.volumes, ...second.json.volumes, ...third.json.volumes].map((v: { id: string }) => v.id);
    expect(ids).toEqual(emu.accounts.digitalocean.volumes.map((v) => v.id));
  });

  it("clamps per_page above 200 to 200 and defaults to 20", async () => {
    const emu = await start({
      accounts: { digitalocean: generateAccount("digitalocean", { seed: 4, servers: 2, volumes: 250 }) },
    });
    expect((await call(emu, "digitalocean", "/v2/volumes?per_page=999")).json.volumes).toHaveLength(200);
    expect((await call(emu, "digitalocean", "/v2/volumes")).json.volumes).toHaveLength(20);
  });

  it("answers links {} when everything fits on one page", async () => {
    const emu = await start();
    const res = await call(emu, "digitalocean", "/v2/droplets");
    expect(res.json.links).toEqual({});
    expect(res.json.meta).toEqual({ total: emu.accounts.digitalocean.servers.length });
    expect(res.json.droplets[0].id).toEqual(expect.any(Number));
  });

  it("sends ratelimit headers on every answer, errors included", async () => {
    const emu = await start();
    const ok = await call(emu, "digitalocean", "/v2/volumes");
    const denied = await call(emu, "digitalocean", "/v2/volumes", { token: "wrong" });
    for (const res of [ok, denied]) {
      expect(Number(res.headers.get("ratelimit-limit"))).toBeGreaterThan(0);
      expect(res.headers.get("ratelimit-remaining")).toMatch(/^\d+$/);
      expect(Number(res.headers.get("ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000 - 1);
      expect(res.headers.get("content-type")).toBe("application/json");
    }
    const again = await call(emu, "digitalocean", "/v2/volumes");
    expect(Number(again.headers.get("ratelimit-remaining"))).toBe(Number(ok.headers.get("ratelimit-remaining")) - 1);
  });

  it("serves the account endpoint in DigitalOcean's shape", async () => {
    const emu = await start();
    const res = await call(emu, "digitalocean", "/v2/account");
    expect(res.json.account).toMatchObject({
      droplet_limit: expect.any(Number),
      floating_ip_limit: expect.any(Number),
      volume_limit: expect.any(Number),
      email: expect.any(String),
      uuid: expect.any(String),
      email_verified: true,
      status: "active",
      status_message: "",
    });
  });
});

describe("Linode paging", () => {
  it("reports 3 pages for 1,100 buckets at page_size 500 and serves 100 on the last", async () => {
    const emu = await start({ accounts: { linode: generateAccount("linode", { seed: 5, servers: 1, buckets: 1100 }) } });
    const labels: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const res = await call(emu, "linode", `/v4/object-storage/buckets?page=${page}&page_size=500`);
      expect(res.json).toMatchObject({ page, pages: 3, results: 1100 });
      labels.push(...res.json.data.map((b: { region: string; label: string }) => `${b.region}/${b.label}`));
    }
    expect(labels).toHaveLength(1100);
    expect(new Set(labels).size).toBe(1100);
  });

  it("defaults to page 1 with 100 items per page", async () => {
    const emu = await start({ accounts: { linode: generateAccount("linode", { seed: 5, servers: 1, buckets: 150 }) } });
    const res = await call(emu, "linode", "/v4/object-storage/buckets");
    expect(res.json).toMatchObject({ page: 1, pages: 2, results: 150 });
    expect(res.json.data).toHaveLength(100);
  });

  it("rejects page_size outside 25-500 with a field error", async () => {
    const emu = await start();
    for (const size of ["10", "501", "abc"]) {
      const res = await call(emu, "linode", `/v4/object-storage/buckets?page_size=${size}`);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ errors: [{ reason: expect.any(String), field: "page_size" }] });
    }
  });

  it("answers a page past the end with empty data and the real page count", async () => {
    const emu = await start();
    const res = await call(emu, "linode", "/v4/object-storage/buckets?page=9");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ data: [], page: 9, pages: 1, results: emu.accounts.linode.buckets.length });
  });

  it("lists Linodes with numeric ids and sends X-RateLimit headers", async () => {
    const emu = await start();
    const res = await call(emu, "linode", "/v4/linode/instances");
    expect(res.json.data[0].id).toEqual(expect.any(Number));
    expect(res.json.results).toBe(emu.accounts.linode.servers.length);
    expect(res.headers.get("x-ratelimit-limit")).toMatch(/^\d+$/);
    expect(res.headers.get("x-ratelimit-remaining")).toMatch(/^\d+$/);
    expect(res.headers.get("x-ratelimit-reset")).toMatch(/^\d+$/);
  });

  it("walks 1,100 volumes in 3 pages of 500 with unique numeric ids, and serves one by id", async () => {
    const emu = await start({ accounts: { linode: generateAccount("linode", { seed: 5, servers: 2, volumes: 1100 }) } });
    const ids: number[] = [];
    for (let page = 1; page <= 3; page++) {
      const res = await call(emu, "linode", `/v4/volumes?page=${page}&page_size=500`);
      expect(res.json).toMatchObject({ page, pages: 3, results: 1100 });
      ids.push(...res.json.data.map((v: { id: number }) => v.id));
    }
    expect(new Set(ids).size).toBe(1100);
    const one = await call(emu, "linode", `/v4/volumes/${ids[600]}`);
    expect(one.status).toBe(200);
    expect(one.json).toEqual(emu.accounts.linode.volumes[600]);
    const gone = await call(emu, "linode", "/v4/volumes/1");
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ errors: [{ reason: "Not found" }] });
  });

  it("serves the volume prices to anyone, token or not, in the paged envelope", async () => {
    const emu = await start();
    for (const token of [undefined, null, "not-the-token"]) {
      const res = await call(emu, "linode", "/v4/volumes/types", { token });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ page: 1, pages: 1, results: 1 });
      expect(res.json.data[0]).toMatchObject({ id: "volume", price: { monthly: 0.1 } });
    }
  });

  it("refuses a token without the volumes scope with Linode's 401, apart from a bad token's", async () => {
    const emu = await start();
    emu.addFault({ provider: "linode", path: "/v4/volumes", kind: "no-scope", times: Infinity });
    const res = await call(emu, "linode", "/v4/volumes");
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ errors: [{ reason: "Your OAuth token is not authorized to use this endpoint." }] });
    // The same token still reads what it has the scope for.
    expect((await call(emu, "linode", "/v4/linode/instances")).status).toBe(200);
  });

  it("serves the profile endpoint", async () => {
    const emu = await start();
    const res = await call(emu, "linode", "/v4/profile");
    expect(res.json).toMatchObject({ username: expect.any(String), email: expect.any(String), restricted: false });
  });
});

describe("auth, unknown paths and methods", () => {
  const lists: [Provider, string][] = [
    ["vultr", "/v2/blocks"],
    ["digitalocean", "/v2/volumes"],
    ["linode", "/v4/object-storage/buckets"],
  ];

  it("answers a missing or wrong bearer token with each provider's own 401 body", async () => {
    const emu = await start();
    for (const token of [null, "not-the-token"]) {
      const [v, d, l] = await Promise.all(lists.map(([p, path]) => call(emu, p, path, { token })));
      expect(v?.status).toBe(401);
      expect(v?.json).toEqual({ error: expect.any(String), status: 401 });
      expect(d?.status).toBe(401);
      expect(d?.json).toEqual({ id: "unauthorized", message: expect.any(String) });
      expect(l?.status).toBe(401);
      expect(l?.json).toEqual({ errors: [{ reason: "Invalid Token" }] });
    }
  });

  it("does not accept one provider's token at another provider", async () => {
    const emu = await start();
    const res = await call(emu, "linode", "/v4/linode/instances", { token: emu.accounts.vultr.token });
    expect(res.status).toBe(401);
  });

  it("answers unknown paths with 404 in the provider's error format", async () => {
    const emu = await start();
    const v = await call(emu, "vultr", "/v2/nope");
    const d = await call(emu, "digitalocean", "/v2/nope");
    const l = await call(emu, "linode", "/v4/nope");
    expect([v.status, d.status, l.status]).toEqual([404, 404, 404]);
    expect(v.json).toEqual({ error: expect.any(String), status: 404 });
    expect(d.json).toEqual({ id: "not_found", message: expect.any(String) });
    expect(l.json).toEqual({ errors: [{ reason: expect.any(String) }] });
  });

  it("answers other methods than GET with 405 in the provider's error format", async () => {
    const emu = await start();
    const [v, d, l] = await Promise.all(lists.map(([p, path]) => call(emu, p, path, { method: "POST" })));
    expect([v?.status, d?.status, l?.status]).toEqual([405, 405, 405]);
    expect(v?.json).toEqual({ error: expect.any(String), status: 405 });
    expect(d?.json).toEqual({ id: "method_not_allowed", message: expect.any(String) });
    expect(l?.json).toEqual({ errors: [{ reason: expect.any(String) }] });
  });
});

describe("faults", () => {
  it("answers an injected 429 with Retry-After and the provider's body, for `times` requests only", async () => {
    const emu = await start();
    emu.addFault({ provider: "digitalocean", path: "/v2/volumes", kind: "429", times: 2, retryAfterSeconds: 7 });
    const a = await call(emu, "digitalocean", "/v2/volumes");
    const b = await call(emu, "digitalocean", "/v2/volumes");
    const c = await call(emu, "digitalocean", "/v2/volumes");
    expect([a.status, b.status, c.status]).toEqual([429, 429, 200]);
    expect(a.headers.get("retry-after")).toBe("7");
    expect(a.headers.get("ratelimit-remaining")).toBe("0");
    expect(a.json).toEqual({ id: "too_many_requests", message: expect.any(String) });
  });

  it("answers injected 500 and 503 with each provider's error body", async () => {
    const emu = await start();
    emu.addFault({ provider: "vultr", path: "/v2/blocks", kind: "500" });
    emu.addFault({ provider: "digitalocean", path: "/v2/volumes", kind: "503" });
    emu.addFault({ provider: "linode", path: "/v4/object-storage/buckets", kind: "500" });
    const v = await call(emu, "vultr", "/v2/blocks");
    const d = await call(emu, "digitalocean", "/v2/volumes");
    const l = await call(emu, "linode", "/v4/object-storage/buckets");
    expect(v.status).toBe(500);
    expect(v.json).toEqual({ error: expect.any(String), status: 500 });
    expect(d.status).toBe(503);
    expect(d.json).toEqual({ id: "service_unavailable", message: expect.any(String) });
    expect(l.status).toBe(500);
    expect(l.json).toEqual({ errors: [{ reason: expect.any(String) }] });
  });

  it("answers an injected 401 even with the right token", async () => {
    const emu = await start();
    emu.addFault({ provider: "linode", path: "/v4/linode/instances", kind: "401" });
    const res = await call(emu, "linode", "/v4/linode/instances");
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ errors: [{ reason: "Invalid Token" }] });
  });

  it("stalls a timeout fault for delayMs and then answers normally", async () => {
    const emu = await start();
    emu.addFault({ provider: "vultr", path: "/v2/blocks", kind: "timeout", delayMs: 300 });
    const started = Date.now();
    const res = await call(emu, "vultr", "/v2/blocks");
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(res.status).toBe(200);
    expect(res.json.blocks).toHaveLength(emu.accounts.vultr.volumes.length);
  });

  it("ends a stalled request promptly on close()", async () => {
    const emu = await startEmulator({ port: 0 });
    emu.addFault({ provider: "digitalocean", path: "/v2/volumes", kind: "timeout", times: Infinity });
    const pending = call(emu, "digitalocean", "/v2/volumes").then(
      () => "answered",
      () => "dropped",
    );
    for (let i = 0; i < 100 && emu.countRequests({ path: "/v2/volumes" }) === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(emu.countRequests({ path: "/v2/volumes" })).toBe(1);
    const started = Date.now();
    await emu.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBe("dropped");
    expect(emu.requests[0]?.status).toBe(0);
  });

  it("answers a malformed fault with 200 and a body that is not valid JSON", async () => {
    const emu = await start();
    emu.addFault({ provider: "linode", path: "/v4/object-storage/buckets", kind: "malformed" });
    const res = await call(emu, "linode", "/v4/object-storage/buckets");
    expect(res.status).toBe(200);
    expect(res.text.length).toBeGreaterThan(0);
    expect(() => JSON.parse(res.text)).toThrow();
  });

  it("drops the id of the first item on a missing-id fault, and the label for Linode buckets", async () => {
    const emu = await start();
    emu.addFault({ provider: "vultr", path: "/v2/blocks", kind: "missing-id" });
    emu.addFault({ provider: "digitalocean", path: "/v2/droplets", kind: "missing-id" });
    emu.addFault({ provider: "linode", path: "/v4/object-storage/buckets", kind: "missing-id" });
    const v = await call(emu, "vultr", "/v2/blocks");
    const d = await call(emu, "digitalocean", "/v2/droplets");
    const l = await call(emu, "linode", "/v4/object-storage/buckets");
    expect(v.json.blocks[0]).not.toHaveProperty("id");
    expect(v.json.blocks[1]).toHaveProperty("id");
    expect(d.json.droplets[0]).not.toHaveProperty("id");
    expect(l.json.data[0]).not.toHaveProperty("label");
    expect(l.json.data[0]).toHaveProperty("region");
    expect(emu.accounts.vultr.volumes[0]).toHaveProperty("id");
  });

  it("hits only the given page: DigitalOcean page number and Vultr cursor ordinal", async () => {
    const emu = await start({
      accounts: {
        vultr: generateAccount("vultr", { seed: 1, servers: 2, volumes: 25 }),
        digitalocean: generateAccount("digitalocean", { seed: 1, servers: 2, volumes: 25 }),
      },
    });
    emu.addFault({ provider: "digitalocean", path: "/v2/volumes", page: 2, kind: "500", times: Infinity });
    expect((await call(emu, "digitalocean", "/v2/volumes?per_page=10&page=1")).status).toBe(200);
    expect((await call(emu, "digitalocean", "/v2/volumes?per_page=10&page=2")).status).toBe(500);
    expect((await call(emu, "digitalocean", "/v2/volumes?per_page=10&page=2")).status).toBe(500);
    expect((await call(emu, "digitalocean", "/v2/volumes?per_page=10&page=3")).status).toBe(200);

    emu.addFault({ provider: "vultr", path: "/v2/blocks", page: 3, kind: "503" });
    const statuses: number[] = [];
    let cursor = "";
    for (let i = 0; i < 5; i++) {
      const res = await call(emu, "vultr", `/v2/blocks?per_page=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      statuses.push(res.status);
      if (res.status !== 200) continue; // retry the same cursor
      cursor = res.json.meta.links.next;
      if (cursor === "") break;
    }
    expect(statuses).toEqual([200, 200, 503, 200]);
  });

  it("matches faults in the order they were added and clears them on clearFaults()", async () => {
    const emu = await start();
    emu.addFault({ provider: "vultr", path: "/v2/blocks", kind: "500" });
    emu.addFault({ provider: "vultr", path: "/v2/blocks", kind: "503" });
    emu.addFault({ provider: "vultr", path: "/v2/blocks", kind: "401", times: Infinity });
    expect((await call(emu, "vultr", "/v2/blocks")).status).toBe(500);
    expect((await call(emu, "vultr", "/v2/blocks")).status).toBe(503);
    expect((await call(emu, "vultr", "/v2/blocks")).status).toBe(401);
    expect((await call(emu, "vultr", "/v2/blocks")).status).toBe(401);
    emu.clearFaults();
    expect((await call(emu, "vultr", "/v2/blocks")).status).toBe(200);
  });
});

describe("rate limits, latency and records", () => {
  it("answers past the configured window with 429, Retry-After and exhausted rate-limit headers", async () => {
    const emu = await start({
      rateLimit: { digitalocean: { limit: 3, windowMs: 60_000 }, linode: { limit: 1, windowMs: 10_000 } },
    });
    const statuses: number[] = [];
    let last: Reply | undefined;
    for (let i = 0; i < 4; i++) {
      last = await call(emu, "digitalocean", "/v2/volumes");
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last?.headers.get("retry-after"))).toBeGreaterThanOrEqual(59);
    expect(last?.headers.get("ratelimit-limit")).toBe("3");
    expect(last?.headers.get("ratelimit-remaining")).toBe("0");
    expect(last?.json).toEqual({ id: "too_many_requests", message: expect.any(String) });

    await call(emu, "linode", "/v4/profile");
    const l = await call(emu, "linode", "/v4/profile");
    expect(l.status).toBe(429);
    expect(l.json).toEqual({ errors: [{ reason: expect.any(String) }] });
    expect(Number(l.headers.get("retry-after"))).toBeLessThanOrEqual(10);

    expect((await call(emu, "vultr", "/v2/blocks")).status).toBe(200);
  });

  it("opens a new window once the old one has passed", async () => {
    const emu = await start({ rateLimit: { vultr: { limit: 1, windowMs: 300 } } });
    expect((await call(emu, "vultr", "/v2/blocks")).status).toBe(200);
    const limited = await call(emu, "vultr", "/v2/blocks");
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual({ error: expect.any(String), status: 429 });
    expect(limited.headers.get("retry-after")).toBe("1");
    await new Promise((r) => setTimeout(r, 350));
    expect((await call(emu, "vultr", "/v2/blocks")).status).toBe(200);
  });

  it("adds latency to every answer but serves concurrent requests concurrently", async () => {
    const emu = await start({ latencyMs: 200 });
    const started = Date.now();
    const replies = await Promise.all(Array.from({ length: 6 }, () => call(emu, "linode", "/v4/object-storage/buckets")));
    const elapsed = Date.now() - started;
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(900);
  });

  it("records every request, faulted ones included, and counts them by provider, path and status", async () => {
    const emu = await start();
    emu.addFault({ provider: "digitalocean", path: "/v2/volumes", kind: "500" });
    await call(emu, "digitalocean", "/v2/volumes?per_page=5");
    await call(emu, "digitalocean", "/v2/volumes?per_page=5");
    await call(emu, "vultr", "/v2/blocks", { token: "bad" });
    expect(emu.requests).toHaveLength(3);
    expect(emu.requests[0]).toMatchObject({
      provider: "digitalocean",
      method: "GET",
      path: "/v2/volumes",
      query: { per_page: "5" },
      status: 500,
    });
    expect(emu.requests[0]?.at).toEqual(expect.any(Number));
    expect(emu.countRequests()).toBe(3);
    expect(emu.countRequests({ provider: "digitalocean" })).toBe(2);
    expect(emu.countRequests({ path: "/v2/volumes", status: 200 })).toBe(1);
    expect(emu.countRequests({ status: 401 })).toBe(1);
    emu.resetRequests();
    expect(emu.countRequests()).toBe(0);
    expect(emu.requests).toHaveLength(0);
  });

  it("serves a replaced account from the next request on", async () => {
    const emu = await start();
    const replacement = generateAccount("digitalocean", { seed: 99, servers: 1, volumes: 2, token: "replacement-token" });
    emu.setAccount("digitalocean", replacement);
    expect((await call(emu, "digitalocean", "/v2/volumes", { token: "replacement-token" })).json.meta.total).toBe(2);
    emu.accounts.digitalocean = generateAccount("digitalocean", { seed: 98, volumes: 5, token: "second" });
    expect((await call(emu, "digitalocean", "/v2/volumes", { token: "second" })).json.meta.total).toBe(5);
  });

  it("keeps item order stable across requests", async () => {
    const emu = await start({ accounts: { linode: generateAccount("linode", { seed: 12, buckets: 60 }) } });
    const a = await call(emu, "linode", "/v4/object-storage/buckets?page=2&page_size=25");
    const b = await call(emu, "linode", "/v4/object-storage/buckets?page=2&page_size=25");
    expect(a.json.data).toEqual(b.json.data);
    expect(a.json.data).toEqual(emu.accounts.linode.buckets.slice(25, 50));
  });

  it("listens on 127.0.0.1 at the port it reports", async () => {
    const emu = await start();
    expect(emu.port).toBeGreaterThan(0);
    expect(emu.baseUrls).toEqual({
      vultr: `http://127.0.0.1:${emu.port}/vultr`,
      digitalocean: `http://127.0.0.1:${emu.port}/digitalocean`,
      linode: `http://127.0.0.1:${emu.port}/linode`,
    });
  });
});

describe("single items", () => {
  it("answers each provider's item GET in its real envelope", async () => {
    const emu = await start();
    const block = emu.accounts.vultr.volumes[0];
    const instance = emu.accounts.vultr.servers[0];
    const volume = emu.accounts.digitalocean.volumes[0];
    const droplet = emu.accounts.digitalocean.servers[0];
    const linode = emu.accounts.linode.servers[0];
    const bucket = emu.accounts.linode.buckets[0];
    expect((await call(emu, "vultr", `/v2/blocks/${String(block.id)}`)).json).toEqual({ block });
    expect((await call(emu, "vultr", `/v2/instances/${String(instance.id)}`)).json).toEqual({ instance });
    expect((await call(emu, "digitalocean", `/v2/volumes/${String(volume.id)}`)).json).toEqual({ volume });
    expect((await call(emu, "digitalocean", `/v2/droplets/${String(droplet.id)}`)).json).toEqual({ droplet });
    expect((await call(emu, "linode", `/v4/linode/instances/${String(linode.id)}`)).json).toEqual(linode);
    const bucketPath = `/v4/object-storage/buckets/${String(bucket.region)}/${encodeURIComponent(String(bucket.label))}`;
    expect((await call(emu, "linode", bucketPath)).json).toEqual(bucket);
  });

  it("answers a missing item with each provider's 404 body", async () => {
    const emu = await start();
    const v = await call(emu, "vultr", "/v2/blocks/no-such-block");
    const d = await call(emu, "digitalocean", "/v2/volumes/no-such-volume");
    const l = await call(emu, "linode", "/v4/object-storage/buckets/us-east/no-such-bucket");
    expect([v.status, d.status, l.status]).toEqual([404, 404, 404]);
    expect(v.json).toEqual({ error: expect.any(String), status: 404 });
    expect(d.json).toEqual({ id: "not_found", message: expect.any(String) });
    expect(l.json).toEqual({ errors: [{ reason: "Not found" }] });
  });

  it("asks for the token on item GETs too, and takes faults on the item's path", async () => {
    const emu = await start();
    const id = String(emu.accounts.digitalocean.volumes[0].id);
    expect((await call(emu, "digitalocean", `/v2/volumes/${id}`, { token: "wrong" })).status).toBe(401);
    emu.addFault({ provider: "digitalocean", path: `/v2/volumes/${id}`, kind: "503" });
    expect((await call(emu, "digitalocean", `/v2/volumes/${id}`)).status).toBe(503);
    expect((await call(emu, "digitalocean", `/v2/volumes/${id}`)).status).toBe(200);
  });
});

describe("paging faults", () => {
  const accounts = {
    vultr: generateAccount("vultr", { seed: 2, servers: 1, volumes: 25 }),
    digitalocean: generateAccount("digitalocean", { seed: 2, servers: 1, volumes: 25 }),
    linode: generateAccount("linode", { seed: 2, servers: 1, buckets: 60 }),
  };

  it("leaves out the totals on a no-total fault", async () => {
    const emu = await start({ accounts });
    emu.addFault({ provider: "vultr", path: "/v2/blocks", kind: "no-total" });
    emu.addFault({ provider: "digitalocean", path: "/v2/volumes", kind: "no-total" });
    emu.addFault({ provider: "linode", path: "/v4/object-storage/buckets", kind: "no-total" });
    const v = await call(emu, "vultr", "/v2/blocks?per_page=10");
    const d = await call(emu, "digitalocean", "/v2/volumes?per_page=10");
    const l = await call(emu, "linode", "/v4/object-storage/buckets?page_size=25");
    expect(v.json.meta).not.toHaveProperty("total");
    expect(v.json.meta.links.next).not.toBe("");
    expect(d.json.meta).not.toHaveProperty("total");
    expect(l.json).toEqual({ data: expect.any(Array) });
  });

  it("reports any value as the total on a bad-total fault; a numeric one moves links and pages with it", async () => {
    const emu = await start({ accounts });
    emu.addFault({ provider: "digitalocean", path: "/v2/volumes", kind: "bad-total", total: "25" });
    emu.addFault({ provider: "linode", path: "/v4/object-storage/buckets", kind: "bad-total" });
    emu.addFault({ provider: "vultr", path: "/v2/blocks", kind: "bad-total", total: 100, page: 3 });
    expect((await call(emu, "digitalocean", "/v2/volumes")).json.meta.total).toBe("25");
    const l = await call(emu, "linode", "/v4/object-storage/buckets?page_size=500");
    expect(l.json).toMatchObject({ results: 10_000_000, pages: 20_000, page: 1 });
    expect(l.json.data).toHaveLength(60);
    // Vultr page 3 of 10-item pages over 25 items: a last page that says more follow.
    const third = await call(emu, "vultr", `/v2/blocks?per_page=10&cursor=${encodeURIComponent(btoa("next__20"))}`);
    expect(third.json.blocks).toHaveLength(5);
    expect(third.json.meta.total).toBe(100);
    expect(third.json.meta.links.next).not.toBe("");
  });

  it("answers a Linode pages count results does not imply on a bad-pages fault", async () => {
    const emu = await start({ accounts });
    emu.addFault({ provider: "linode", path: "/v4/object-storage/buckets", kind: "bad-pages" });
    const l = await call(emu, "linode", "/v4/object-storage/buckets?page_size=25");
    expect(l.json).toMatchObject({ results: 60, pages: 4, page: 1 });
  });

  it("leaves out Vultr's next link on no-next, and points it back to page 2 on cycle-cursor", async () => {
    const emu = await start({ accounts });
    emu.addFault({ provider: "vultr", path: "/v2/blocks", kind: "no-next", page: 1 });
    expect((await call(emu, "vultr", "/v2/blocks?per_page=10")).json.meta.links).not.toHaveProperty("next");
    emu.addFault({ provider: "vultr", path: "/v2/blocks", kind: "cycle-cursor", page: 3 });
    const first = await call(emu, "vultr", "/v2/blocks?per_page=10");
    const second = await call(emu, "vultr", `/v2/blocks?per_page=10&cursor=${encodeURIComponent(first.json.meta.links.next)}`);
    const third = await call(emu, "vultr", `/v2/blocks?per_page=10&cursor=${encodeURIComponent(second.json.meta.links.next)}`);
    expect(third.json.meta.links.next).toBe(first.json.meta.links.next);
  });

  it("leaves the page's last item out on short-page, the total unchanged", async () => {
    const emu = await start({ accounts });
    emu.addFault({ provider: "digitalocean", path: "/v2/volumes", kind: "short-page", page: 2 });
    const page2 = await call(emu, "digitalocean", "/v2/volumes?per_page=10&page=2");
    expect(page2.json.volumes).toHaveLength(9);
    expect(page2.json.volumes[0]).toEqual(accounts.digitalocean.volumes[10]);
    expect(page2.json.meta.total).toBe(25);
  });
});

describe("body faults", () => {
  async function readSome(res: Response, limit: number): Promise<number> {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let read = 0;
    while (read < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      read += value.length;
    }
    await reader.cancel();
    return read;
  }

  it("streams a huge body of `bytes`, announcing its length unless told not to", async () => {
    const emu = await start();
    emu.addFault({ provider: "vultr", path: "/v2/blocks", kind: "huge-body", bytes: 300 * 1024 * 1024 });
    const token = emu.accounts.vultr.token;
    const announced = await fetch(`${emu.baseUrls.vultr}/v2/blocks`, { headers: { Authorization: `Bearer ${token}` } });
    expect(announced.status).toBe(200);
    expect(announced.headers.get("content-length")).toBe(String(300 * 1024 * 1024));
    expect(await readSome(announced, 1024 * 1024)).toBeGreaterThanOrEqual(1024 * 1024);

    emu.addFault({ provider: "vultr", path: "/v2/blocks", kind: "huge-body", bytes: 200_000, contentLength: false });
    const unannounced = await fetch(`${emu.baseUrls.vultr}/v2/blocks`, { headers: { Authorization: `Bearer ${token}` } });
    expect(unannounced.headers.get("content-length")).toBeNull();
    expect((await unannounced.text()).length).toBe(200_000);
  });

  it.each([
    ["plain", (t: string) => t],
    ["partial", (t: string) => t.slice(Math.floor(t.length / 2))],
    ["base64", (t: string) => btoa(t)],
    ["base64-bearer", (t: string) => btoa(`Bearer ${t}`)],
    ["url", (t: string) => encodeURIComponent(t)],
    ["hex", (t: string) => Buffer.from(t).toString("hex")],
  ] as const)("echoes the request's token (%s) at the given position of the provider's message", async (echo, form) => {
    const token = "tok/en+with=odd chars&0123456789abcdef";
    const emu = await start({ accounts: { digitalocean: generateAccount("digitalocean", { seed: 3, token }) } });
    emu.addFault({ provider: "digitalocean", path: "/v2/volumes", kind: "echo-token", echo, at: 295 });
    const res = await call(emu, "digitalocean", "/v2/volumes");
    expect(res.status).toBe(400);
    expect(res.json.message.indexOf(form(token))).toBe(295);
  });

  it("echoes the token in a 200 body that is not JSON when told so", async () => {
    const emu = await start();
    emu.addFault({ provider: "linode", path: "/v4/linode/instances", kind: "echo-token", status: 200, at: 10 });
    const res = await call(emu, "linode", "/v4/linode/instances");
    expect(res.status).toBe(200);
    expect(res.json).toBeUndefined();
    expect(res.text.indexOf(emu.accounts.linode.token)).toBe(10);
  });
});

describe("Vultr Object Storage", () => {
  const account = () => generateAccount("vultr", { seed: 6, servers: 1, volumes: 1, buckets: 30, objectStorages: 520 });

  it("lists subscriptions by cursor, 500 a page, keys included, and each one's buckets", async () => {
    const emu = await start({ accounts: { vultr: account() } });
    const first = await call(emu, "vultr", "/v2/object-storage?per_page=500");
    expect(first.status).toBe(200);
    expect(first.json.object_storages).toHaveLength(500);
    expect(first.json.meta.total).toBe(520);
    expect(first.json.object_storages[0]).toHaveProperty("s3_secret_key");
    const second = await call(emu, "vultr", `/v2/object-storage?per_page=500&cursor=${encodeURIComponent(first.json.meta.links.next)}`);
    expect(second.json.object_storages).toHaveLength(20);
    expect(second.json.meta.links.next).toBe("");

    const sub = emu.accounts.vultr.objectStorages![0];
    const one = await call(emu, "vultr", `/v2/object-storage/${String(sub.id)}`);
    expect(one.json.object_storage.id).toBe(sub.id);
    const buckets = await call(emu, "vultr", `/v2/object-storage/${String(sub.id)}/bucket`);
    const expected = emu.accounts.vultr.buckets.filter((b) => b.object_storage_id === sub.id).map((b) => b.name);
    expect(buckets.json.buckets.map((b: { name: string }) => b.name)).toEqual(expected);
    expect(Object.keys(buckets.json.buckets[0]).sort()).toEqual(["date_created", "name"]);
    expect((await call(emu, "vultr", "/v2/object-storage/no-such-id")).status).toBe(404);
    expect((await call(emu, "vultr", "/v2/object-storage/no-such-id/bucket")).status).toBe(404);
    expect((await call(emu, "vultr", `/v2/object-storage/${String(sub.id)}/bucket`, { token: "wrong" })).status).toBe(401);
  });

  it("answers the bucket endpoint with Vultr's 404 in the missing mode", async () => {
    const emu = await start({ accounts: { vultr: account() }, vultrBucketEndpoint: "missing" });
    const sub = emu.accounts.vultr.objectStorages![0];
    const reply = await call(emu, "vultr", `/v2/object-storage/${String(sub.id)}/bucket`);
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({ error: "Not found.", status: 404 });
  });

  // Signed here with node:crypto, independently of the module's WebCrypto signer.
  function signed(emu: Emulator, host: string, accessKey: string, secretKey: string) {
    const url = new URL(`${emu.vultrS3Url}/${host}/`);
    const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
    const date = amzDate.slice(0, 8);
    const payload = createHash("sha256").update("").digest("hex");
    const canonical = ["GET", url.pathname, "", `host:${url.host}\nx-amz-content-sha256:${payload}\nx-amz-date:${amzDate}\n`, "host;x-amz-content-sha256;x-amz-date", payload].join("\n");
    const scope = `${date}/us-east-1/s3/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
    let key: Buffer = createHmac("sha256", `AWS4${secretKey}`).update(date).digest();
    for (const part of ["us-east-1", "s3", "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
    const signature = createHmac("sha256", key).update(toSign).digest("hex");
    return fetch(url, {
      headers: {
        "x-amz-date": amzDate,
        "x-amz-content-sha256": payload,
        Authorization: `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signature}`,
      },
    });
  }

  it("answers S3 ListBuckets signed with the subscription's keys, and S3's error XML otherwise", async () => {
    const emu = await start({ accounts: { vultr: account() } });
    const sub = emu.accounts.vultr.objectStorages![0];
    const host = String(sub.s3_hostname);
    const ok = await signed(emu, host, String(sub.s3_access_key), String(sub.s3_secret_key));
    expect(ok.status).toBe(200);
    const xml = await ok.text();
    expect(xml).toMatch(/^<\?xml[^>]*\?><ListAllMyBucketsResult/);
    const names = [...xml.matchAll(/<Name>([^<]*)<\/Name>/g)].map((m) => m[1]);
    expect(names).toEqual(emu.accounts.vultr.buckets.filter((b) => b.object_storage_id === sub.id).map((b) => b.name));

    const badSignature = await signed(emu, host, String(sub.s3_access_key), "not-the-secret");
    expect(badSignature.status).toBe(403);
    expect(await badSignature.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
    const unknownKey = await signed(emu, host, "NOSUCHKEY00000000000", String(sub.s3_secret_key));
    expect(unknownKey.status).toBe(403);
    expect(await unknownKey.text()).toContain("<Code>InvalidAccessKeyId</Code>");
    const unsigned = await fetch(`${emu.vultrS3Url}/${host}/`);
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).toContain("<Code>AccessDenied</Code>");
    // Another subscription's keys on this host are not this host's.
    const elsewhere = emu.accounts.vultr.objectStorages!.find((s) => s.s3_hostname !== host)!;
    const wrongHost = await signed(emu, host, String(elsewhere.s3_access_key), String(elsewhere.s3_secret_key));
    expect(await wrongHost.text()).toContain("<Code>InvalidAccessKeyId</Code>");
    expect(emu.requests.filter((r) => r.path === `/s3/${host}`).map((r) => r.status)).toEqual([200, 403, 403, 403, 403]);
  });
});
