// @vitest-environment node
// The deploy check refuses what a real push refuses. Each case breaks a copy
// of this project and runs only the stage that must catch it (the clean tree
// is checked by `npm test` itself, before vitest).
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkDeploy, copyProject } from "./check-deploy";

const PROJECT = resolve(import.meta.dirname, "../..");
let copy: string | undefined;

afterEach(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
  copy = undefined;
});

function edit(file: string, change: (text: string) => string) {
  const path = join(copy!, file);
  writeFileSync(path, change(readFileSync(path, "utf8")));
}

describe("the deploy check", () => {
  it("fails the typecheck when code reads a variable convex.config.ts no longer declares", async () => {
    copy = copyProject(PROJECT);
    edit("convex/convex.config.ts", (t) => t.replace(/^\s*SYNC_MAX_ATTEMPTS:.*\n/m, ""));

    const result = await checkDeploy(copy, { bundle: false });

    expect(result.ok).toBe(false);
    expect(result.lines.join("\n")).toMatch(/convex\/lib\/settings\.ts\(\d+,\d+\): error TS/);
  }, 180_000);

  it("fails the bundle when a function file imports node:crypto", async () => {
    copy = copyProject(PROJECT);
    edit("convex/users.ts", (t) => `import { createHash } from "node:crypto";\nexport const digest = (s: string) => createHash("sha256").update(s).digest("hex");\n${t}`);

    const result = await checkDeploy(copy, { typecheck: false });

    expect(result.ok).toBe(false);
    expect(result.lines.join("\n")).toContain('Could not resolve "node:crypto"');
  }, 180_000);
});
