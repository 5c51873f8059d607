import { describe, expect, test } from "vitest";
import blocksSample from "../../../../docks/vultr/getBlocks.json";
import instancesSample from "../../../../docks/vultr/getInstances.json";
import { expectStoredBetweenSiblings, LONE_HIGH, storablePoisons, unusableIds } from "../../poison.test.setup";
import { parseVultrBlock, parseVultrInstance } from "./adapter";

describe("Vultr mapping", () => {
  test("a block maps to the specification's blockVolumes fields, with the item under fullApiData.block", () => {
    const block = blocksSample.blocks[0];
    const parsed = parseVultrBlock(block);
    expect(parsed).toEqual({
      ok: true,
      fields: {
        providerResourceId: block.id,
        name: block.label,
        sizeGb: block.size_gb,
        region: block.region,
        status: block.status,
        attachedToInstance: block.attached_to_instance,
        attachedToInstanceLabel: block.attached_to_instance_label,
        mountId: block.mount_id,
        blockType: block.block_type,
        filesystemType: undefined,
        monthlyCost: block.cost,
        fullApiData: { block },
      },
    });
  });

  test.each([
    ["absent", undefined],
    ["null", null],
    ["a string", "25.00"],
    ["negative", -1],
    ["not finite", Number.NaN],
  ])("a block whose cost is %s keeps its row with the cost unknown", (_, cost) => {
    const parsed = parseVultrBlock({ ...blocksSample.blocks[0], cost });
    expect(parsed.ok).toBe(true);
    expect(parsed.ok && parsed.fields.monthlyCost).toBeUndefined();
    expect(parsed.ok && parsed.fields.sizeGb).toBe(blocksSample.blocks[0].size_gb);
  });

  test("a detached block (empty attachment strings) has no attachment", () => {
    const detached = blocksSample.blocks.find((b) => b.attached_to_instance === "")!;
    const parsed = parseVultrBlock(detached);
    expect(parsed.ok && parsed.fields.attachedToInstance).toBeUndefined();
    expect(parsed.ok && parsed.fields.attachedToInstanceLabel).toBeUndefined();
  });

  test("a block without a label is named by its id", () => {
    const parsed = parseVultrBlock({ ...blocksSample.blocks[0], label: "" });
    expect(parsed.ok && parsed.fields.name).toBe(blocksSample.blocks[0].id);
  });

  test.each([
    ["no id", { id: undefined }, /id is missing/],
    ["a numeric id", { id: 42 }, /id is a number/],
    ["size as a string", { size_gb: "50" }, /size_gb is a string/],
    ["no region", { region: null }, /region is null/],
  ])("a block with %s is skipped with the reason", (_label, change, reason) => {
    const parsed = parseVultrBlock({ ...blocksSample.blocks[0], ...change });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(reason);
  });

  test("an instance's root password and console URL are never kept", () => {
    const instance = instancesSample.instances[0];
    const parsed = parseVultrInstance({ ...instance, default_password: "hunter2!", kvm: "https://console/?token=x" });
    expect(parsed.ok).toBe(true);
    const stored = JSON.stringify(parsed.ok && parsed.fields);
    expect(stored).not.toContain("hunter2!");
    expect(stored).not.toContain("default_password");
    expect(stored).not.toContain("token=x");
  });
});

describe.each([
  { kind: "instance", parse: parseVultrInstance, samples: instancesSample.instances as Record<string, unknown>[], dataKey: "instance" },
  { kind: "block", parse: parseVultrBlock, samples: blocksSample.blocks as Record<string, unknown>[], dataKey: "block" },
])("a hostile Vultr $kind", ({ parse, samples, dataKey }) => {
  test.each(storablePoisons(samples[0], "label"))(
    "with %s becomes a row within Convex's limits; its siblings parse as alone",
    (_label, poison) => expectStoredBetweenSiblings(parse, [samples[0], samples[1]], poison),
  );

  test.each(unusableIds(samples[0], "id"))("with %s is skipped with the reason", (_label, poison) => {
    const parsed = parse(poison);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(/^id is/);
  });

  test("with a lone surrogate in its label is stored under a well-formed name, marked trimmed", () => {
    const parsed = parse({ ...samples[0], label: `disk${LONE_HIGH}` });
    expect(parsed.ok && parsed.fields.name).toBe("disk\uFFFD");
    expect(parsed.ok && parsed.trimmed).toEqual(["lone surrogates replaced"]);
  });

  test("keeps the provider's nulls as null", () => {
    const item = { ...samples[0], tag: null, firewall_group_id: null, snapshot_id: null, extra: { a: null, b: [null] } };
    const parsed = parse(item);
    const stored = (parsed.ok && (parsed.fields.fullApiData as Record<string, unknown>)[dataKey]) as Record<string, unknown>;
    expect(stored.tag).toBeNull();
    expect(stored.snapshot_id).toBeNull();
    expect(stored.extra).toEqual({ a: null, b: [null] });
    expect(parsed.ok && parsed.trimmed).toBeUndefined();
  });
});
