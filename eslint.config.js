// Lint for the Convex functions and the Node tooling in docks/.
import convexPlugin from "@convex-dev/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["convex/_generated/**", "node_modules/**"] },
  ...tseslint.configs.recommended,
  ...convexPlugin.configs.recommended,
  {
    files: ["convex/**/*.ts"],
    rules: {
      // Every public function names its access check (lib/auth.ts).
      "@convex-dev/require-access-control": [
        "error",
        { pattern: "^(require|readable)[A-Z]" },
      ],
      "@convex-dev/no-filter-in-query": "error",
    },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      "no-console": ["error", { allow: ["warn", "error"] }],
    },
  },
  {
    // Tests configure the environment the functions read through `env`.
    files: ["convex/**/*.test.ts", "convex/test.setup.ts"],
    rules: { "@convex-dev/no-process-env": "off" },
  },
  {
    // The command-line tools print their results.
    files: ["docks/**/*.ts"],
    rules: { "no-console": "off" },
  },
);
