// What `npx convex dev` / `npx convex deploy` refuse before they push, checked
// offline on a copy of the project:
// 1. the push regenerates convex/_generated/server.* with `env` typed from the
//    variables convex/convex.config.ts declares, then runs `tsc --project convex`;
//    the offline `convex codegen --system-udfs` writes an untyped `env`, so only
//    this step sees a read of an undeclared variable.
// 2. the CLI's own bundler over convex/ (`--debug-bundle-path` writes the bundle
//    and stops before the push): it must succeed, every module must run in the
//    default runtime (no "use node"), and nothing from outside convex/ (other
//    than packages) nor any test file may be bundled.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export type DeployCheck = { ok: boolean; lines: string[] };
export type DeployCheckOptions = { typecheck?: boolean; bundle?: boolean };

/** A throwaway copy of the project (without .git, node_modules or local .env files) sharing its node_modules. */
export function copyProject(projectDir: string): string {
  const copy = mkdtempSync(join(tmpdir(), "deploy-check-"));
  const skip = new Set(["node_modules", ".git", "coverage"]);
  cpSync(projectDir, copy, {
    recursive: true,
    filter: (src) => {
      const name = basename(src);
      return src === projectDir || !(skip.has(name) || name.startsWith(".env"));
    },
  });
  symlinkSync(realpathSync(join(projectDir, "node_modules")), join(copy, "node_modules"), "dir");
  return copy;
}

function run(cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, args, { cwd, env: { ...env, NO_COLOR: "1" }, encoding: "utf8", timeout: 120_000 });
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}`.replace(/\x1b\[[0-9;]*m/g, "");
  return { status: r.status, output: output.trim() };
}

/** Writes convex/_generated/server.* as the push's codegen does; returns the names `env` gets. */
async function pushCodegen(dir: string): Promise<{ declared: string[]; platform: string[] }> {
  const convexPkg = realpathSync(join(dir, "node_modules", "convex"));
  const template = await import(pathToFileURL(join(convexPkg, "dist/esm/cli/codegen_templates/server.js")).href);
  const configPath = join(dir, "convex", "convex.config.ts");
  let envVars: [string, unknown][] = [];
  if (existsSync(configPath)) {
    const app = (await import(pathToFileURL(configPath).href)).default;
    envVars = app.export().envVars ?? [];
  }
  // Like the CLI: TypeScript server files only when convex.json asks for them.
  const convexJson = join(dir, "convex.json");
  const useTypeScript =
    existsSync(convexJson) && JSON.parse(readFileSync(convexJson, "utf8")).codegen?.fileType === "ts";
  const out = template.serverCodegen({ useTypeScript, envVars });
  const generated = join(dir, "convex", "_generated");
  if (useTypeScript) writeFileSync(join(generated, "server.ts"), out.TS);
  else {
    writeFileSync(join(generated, "server.d.ts"), out.DTS);
    writeFileSync(join(generated, "server.js"), out.JS);
  }
  const names = (vars: [string, unknown][]) => vars.map(([name]) => name);
  return { declared: names(envVars), platform: names(template.withPlatformEnvVars([])) };
}

type BundledModule = { path: string; environment: string; sourceMap?: string };

/** Runs the CLI's bundler offline; returns its modules, or the CLI's own error text. */
function bundle(dir: string): { modules?: BundledModule[]; error?: string } {
  const out = join(dir, ".deploy-bundle");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // A self-hosted deployment on a closed port: the CLI bundles, writes the
    // bundle and stops before it would contact it.
    CONVEX_SELF_HOSTED_URL: "http://127.0.0.1:9",
    CONVEX_SELF_HOSTED_ADMIN_KEY: "offline",
  };
  for (const name of ["CONVEX_DEPLOYMENT", "CONVEX_DEPLOY_KEY", "CONVEX_URL"]) delete env[name];
  const cli = join("node_modules", "convex", "bin", "main.js");
  const args = [cli, "deploy", "--debug-bundle-path", out, "--codegen", "disable", "--typecheck", "disable", "-y"];
  const r = run(dir, args, env);
  if (r.status !== 0 || !existsSync(join(out, "fullConfig.json"))) {
    // Keep the bundler's message, not the banner about where it would deploy.
    const message = r.output
      .split("\n")
      .filter((l) => !/Deploying|127\.0\.0\.1:9|^\s*$/.test(l))
      .join("\n");
    return { error: message || `exit status ${r.status}` };
  }
  return { modules: JSON.parse(readFileSync(join(out, "fullConfig.json"), "utf8")).modules };
}

const TEST_FILE = /\.test\.[cm]?[jt]sx?$|(^|[/\\])test\.setup\.[cm]?[jt]sx?$/;

/** What each bundled module may not contain, from its source map. */
function bundleProblems(dir: string, modules: BundledModule[]): string[] {
  const convexDir = join(dir, "convex") + sep;
  const problems = new Set<string>();
  let readable = false;
  for (const m of modules) {
    if (m.environment !== "isolate") {
      problems.add(`convex/${m.path} needs the Node.js runtime ("use node"); the module must run in the default runtime.`);
    }
    if (!m.sourceMap) continue;
    // esbuild writes sources relative to the module's place in its output
    // directory, one level below the project root.
    const base = join(dir, "out", dirname(m.path));
    const files = (JSON.parse(m.sourceMap).sources as string[]).map((source) => resolve(base, source));
    if (files.some((f) => f.startsWith(convexDir))) readable = true;
    for (const file of files) {
      if (file.split(sep).includes("node_modules")) continue;
      const shown = relative(dir, file);
      if (!file.startsWith(convexDir)) {
        problems.add(`convex/${m.path} bundles ${shown}, which is outside convex/.`);
      } else if (TEST_FILE.test(file)) {
        problems.add(`convex/${m.path} bundles test code (${shown}).`);
      }
    }
  }
  // Guards the path arithmetic above: a bundle of convex/ names convex/ files.
  if (!readable) problems.add("no source map names a file in convex/: this check cannot read the bundle.");
  return [...problems];
}

export async function checkDeploy(projectDir: string, options: DeployCheckOptions = {}): Promise<DeployCheck> {
  const dir = copyProject(resolve(projectDir));
  const lines: string[] = [];
  let ok = true;
  try {
    if (options.typecheck ?? true) {
      const { declared, platform } = await pushCodegen(dir);
      lines.push(`env declared in convex/convex.config.ts: ${declared.join(", ") || "(none)"} (+ ${platform.join(", ")})`);
      const tsc = run(dir, [join("node_modules", "typescript", "bin", "tsc"), "--project", "convex", "--noEmit", "--pretty", "false"]);
      if (tsc.status === 0) lines.push("typecheck with the env a push generates (tsc --project convex): ok");
      else {
        ok = false;
        const count = tsc.output.split("\n").filter((l) => l.includes("error TS")).length;
        lines.push(`typecheck with the env a push generates (tsc --project convex): ${count} error(s); a real push stops here:`);
        lines.push(...tsc.output.split("\n").map((l) => `  ${l}`));
      }
    }
    if (options.bundle ?? true) {
      const result = bundle(dir);
      if (result.error !== undefined) {
        ok = false;
        lines.push("bundle (convex deploy --debug-bundle-path): the Convex bundler refused convex/:");
        lines.push(...result.error.split("\n").map((l) => `  ${l}`));
      } else {
        const problems = bundleProblems(dir, result.modules!);
        const entries = result.modules!.filter((m) => !m.path.startsWith("_deps/")).length;
        if (problems.length === 0) {
          lines.push(`bundle (convex deploy --debug-bundle-path): ${entries} modules, default runtime, only convex/ and packages: ok`);
        } else {
          ok = false;
          lines.push(`bundle (convex deploy --debug-bundle-path): ${problems.length} problem(s):`);
          lines.push(...problems.map((p) => `  ${p}`));
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { ok, lines };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const result = await checkDeploy(process.argv[2] ?? process.cwd());
  for (const line of result.lines) console.log(line);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(result.ok ? `deploy check passed (${seconds} s)` : `deploy check FAILED (${seconds} s): a real push would stop here.`);
  process.exit(result.ok ? 0 : 1);
}
