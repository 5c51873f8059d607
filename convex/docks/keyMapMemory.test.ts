// The action's key map keeps every listed key for the whole listing; a
// provider answering 100,000 items with ids near 1,000 characters would make
// it outgrow the action's 64 MiB. The map counts the characters it holds and
// refuses the listing (INCOMPLETE_LISTING) first.
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { describe, expect, test } from "vitest";
import { DEFAULT_MAX_LISTING_ITEMS } from "./http";
import { KeysTooLarge, KnownRows } from "./syncFlow";

v8.setFlagsFromString("--expose_gc");
const gc = vm.runInNewContext("gc") as () => void;

describe("the sync action's key map", () => {
  test("refuses a listing whose keys would outgrow what an action may hold, long before 64 MiB", () => {
    const items = DEFAULT_MAX_LISTING_ITEMS;
    const pad = "k".repeat(1000);
    gc();
    const before = process.memoryUsage().heapUsed;
    const known = new KnownRows();
    let refusedAt = items;
    // Keys arrive as fresh strings from each page's JSON, 500 items a page.
    for (let start = 0; start < items; start += 500) {
      const ids: string[] = [];
      for (let i = start; i < start + 500; i++) ids.push(`${pad}${i}`);
      const page = JSON.parse(JSON.stringify(ids)) as string[];
      try {
        for (const key of page) known.list(key);
      } catch (e) {
        expect(e).toBeInstanceOf(KeysTooLarge);
        refusedAt = start;
        break;
      }
    }
    gc();
    const retained = process.memoryUsage().heapUsed - before;
    expect(refusedAt).toBeLessThan(items);
    expect(retained).toBeLessThan(32 * 1024 * 1024);
  });
});
