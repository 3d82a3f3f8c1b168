/**
 * Locates the package's own files (package.json, `demo/`) from this module's
 * URL, so the same code works from `src/cli/` under tsx and from `dist/cli/`
 * after a build, or from an installed copy in node_modules.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: { root: string; version: string } | undefined;

function find(): { root: string; version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "switchboard") return { root: dir, version: pkg.version ?? "0.0.0" };
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("switchboard: package.json not found above the CLI module");
    dir = parent;
  }
}

/** The package's root directory (the one holding its package.json). */
export function packageRoot(): string {
  cached ??= find();
  return cached.root;
}

/** The package's version, from its package.json. */
export function packageVersion(): string {
  cached ??= find();
  return cached.version;
}
