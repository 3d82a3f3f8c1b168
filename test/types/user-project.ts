/**
 * A throw-away TypeScript project laid out as a user's: its own node_modules holding the
 * package under test, the runtime dependencies it installs and `@types/node`, nothing else
 * (no devDependency of this repository), compiled by this repository's `tsc`.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../../", import.meta.url));
const tsc = join(root, "node_modules/typescript/bin/tsc");

/** The compiler options a careful user runs with. */
const USER_OPTIONS = {
  strict: true,
  skipLibCheck: false,
  module: "nodenext",
  moduleResolution: "nodenext",
  target: "es2022",
  lib: ["es2022"],
  types: ["node"],
  noEmit: true,
};

export interface UserProject {
  /**
   * Packages in node_modules: name to the folder linked there, or to the entries (file or
   * folder name to its target) of a folder assembled from links.
   */
  packages: Record<string, string | Record<string, string>>;
  /** Source files to copy in: project-relative name to the file's path. */
  files: Record<string, string>;
  /** Extra files to write: project-relative name to contents. */
  sources?: Record<string, string>;
  /** Extra compiler options (e.g. `paths`). */
  options?: Record<string, unknown>;
  /**
   * Resolve through the links as the user sees them, not through their targets (otherwise a
   * linked package would find this repository's node_modules, devDependencies included).
   */
  preserveSymlinks: boolean;
}

export interface CompileResult {
  ok: boolean;
  /** tsc's diagnostics, one per line. */
  output: string;
}

/** Writes the project to a temporary folder, runs `tsc -p` on it, removes it. */
export async function compileUserProject(project: UserProject): Promise<CompileResult> {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-types-"));
  try {
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
    for (const [name, target] of Object.entries(project.packages)) {
      const folder = join(dir, "node_modules", name);
      mkdirSync(join(folder, ".."), { recursive: true });
      if (typeof target === "string") {
        symlinkSync(target, folder, "dir");
        continue;
      }
      mkdirSync(folder);
      for (const [entry, to] of Object.entries(target)) symlinkSync(to, join(folder, entry));
    }
    for (const [name, from] of Object.entries(project.files)) cpSync(from, join(dir, name));
    for (const [name, text] of Object.entries(project.sources ?? {})) {
      writeFileSync(join(dir, name), text);
    }
    const files = [...Object.keys(project.files), ...Object.keys(project.sources ?? {})];
    const tsconfig = {
      compilerOptions: {
        ...USER_OPTIONS,
        preserveSymlinks: project.preserveSymlinks,
        ...project.options,
      },
      files: files.filter((f) => f.endsWith(".ts")),
    };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
    return await new Promise<CompileResult>((resolve) => {
      execFile(
        process.execPath,
        [tsc, "-p", dir, "--pretty", "false"],
        { cwd: dir, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          resolve({ ok: err === null, output: `${stdout}${stderr}`.split(dir).join(".") });
        },
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Switchboard as `npm install switchboard` lays it out: its package.json and built `dist/`
 * (so `npm run build` must have run), without this repository's node_modules.
 */
export const SWITCHBOARD_PACKAGE: Record<string, string> = {
  "package.json": join(root, "package.json"),
  dist: join(root, "dist"),
};

/** A package of this repository's node_modules. */
export function installed(name: string): string {
  return join(root, "node_modules", name);
}
