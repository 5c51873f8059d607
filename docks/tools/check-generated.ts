// Checks that the committed convex/_generated matches what codegen writes for
// the current functions and schema. Regenerates in place, so a stale tree is
// fixed by committing the result.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const generated = join(process.cwd(), "convex", "_generated");
const before = mkdtempSync(join(tmpdir(), "generated-"));
cpSync(generated, before, { recursive: true });
try {
  execFileSync(
    process.execPath,
    [join("node_modules", "convex", "bin", "main.js"), "codegen", "--system-udfs", "--typecheck", "disable"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const names = new Set([...readdirSync(before), ...readdirSync(generated)]);
  const changed = [...names].filter((name) => {
    const read = (dir: string) => {
      try {
        return readFileSync(join(dir, name), "utf8");
      } catch {
        return undefined;
      }
    };
    return read(before) !== read(generated);
  });
  if (changed.length > 0) {
    console.error(
      `convex/_generated was out of date (${changed.join(", ")}); it has been regenerated: commit it.`,
    );
    process.exit(1);
  }
  console.log("convex/_generated is up to date.");
} finally {
  rmSync(before, { recursive: true, force: true });
}
