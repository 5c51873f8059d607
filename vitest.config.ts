import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Convex functions run in the edge runtime, like the real deployment's V8 isolates.
    environment: "edge-runtime",
    server: { deps: { inline: ["convex-test"] } },
    include: ["convex/**/*.test.ts", "docks/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
