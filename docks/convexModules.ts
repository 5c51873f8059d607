// The module map convex-test needs to run this project's Convex functions
// outside Vite (in `npm start` and `npm run bench`): every deployable file
// under convex/, loaded on demand, like Vite's import.meta.glob would.
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const CONVEX_DIR = resolve(fileURLToPath(new URL("../convex/", import.meta.url)));

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : [path];
  });
}

export function convexModules(): Record<string, () => Promise<unknown>> {
  const files = walk(CONVEX_DIR).filter(
    (f) => /\.(ts|js)$/.test(f) && !f.endsWith(".d.ts") && !/\.test\.ts$|test\.setup\.ts$/.test(f),
  );
  return Object.fromEntries(files.map((f) => [f, () => import(pathToFileURL(f).href)]));
}
