/**
 * The published types as a user compiles them (`strict`, `skipLibCheck: false`, `module:
 * nodenext`, only `@types/node` installed): socket.io's TypeScript guide with only the import
 * changed (test/types/fixtures/socketio-guide.ts) must compile against the built `dist/*.d.ts`
 * reached through the package's `exports`, and the same file must compile against socket.io
 * 4.8, so each `@ts-expect-error` in it is an error with both servers.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { compileUserProject, installed, root, SWITCHBOARD_PACKAGE } from "./user-project.js";

const GUIDE = join(root, "test/types/fixtures/socketio-guide.ts");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  exports: Record<string, unknown>;
};

/** `@types/node` and what it needs itself: the only types a user is assumed to have. */
const NODE_TYPES = {
  "@types/node": installed("@types/node"),
  "undici-types": installed("undici-types"),
};

/** Subpaths whose types need only Node's (the others mount into frameworks the user brings). */
const NODE_ONLY_ENTRIES = ["", "/engine", "/bayeux", "/bayeux-client", "/node", "/health"];

/** A module that loads the declarations of every Node-only entry point. */
const ENTRIES = NODE_ONLY_ENTRIES.map(
  (sub, i) => `import type * as entry${i} from "switchboard${sub}";\n`,
)
  .concat(
    `export type Entries = [${NODE_ONLY_ENTRIES.map((_, i) => `typeof entry${i}`).join(", ")}];\n`,
  )
  .join("");

/** The mapping of the guide's placeholder import to one server package. */
function underTest(packageName: string) {
  return {
    sources: { "target.ts": `export * from "${packageName}";\n` },
    options: { paths: { "server-under-test": ["./target.ts"] } },
  };
}

describe("published types, compiled as a user's project", () => {
  it("socket.io's TypeScript guide compiles against switchboard's dist/*.d.ts with only @types/node", async (t) => {
    if (!existsSync(join(root, "dist/index.d.ts"))) {
      return assert.fail("run `npm run build` first (npm test does)");
    }
    // Every runtime dependency is installed with the package; none of the devDependencies is.
    const dependencies: Record<string, string> = {};
    for (const name of Object.keys(pkg.dependencies)) dependencies[name] = installed(name);
    const { sources, options } = underTest("switchboard");
    const result = await compileUserProject({
      packages: { switchboard: SWITCHBOARD_PACKAGE, ...dependencies, ...NODE_TYPES },
      files: { "guide.ts": GUIDE },
      sources: { ...sources, "entries.ts": ENTRIES },
      options,
      preserveSymlinks: true,
    });
    t.diagnostic(result.output);
    assert.equal(result.output.trim(), "");
    assert.ok(result.ok);
  });

  it("the same guide compiles against socket.io 4.8: each @ts-expect-error is an error there too", async (t) => {
    const { sources, options } = underTest("socket.io");
    const result = await compileUserProject({
      // socket.io is resolved where it is installed, with its own dependencies' types.
      packages: { "socket.io": installed("socket.io"), ...NODE_TYPES },
      files: { "guide.ts": GUIDE },
      sources,
      options,
      preserveSymlinks: false,
    });
    t.diagnostic(result.output);
    assert.equal(result.output.trim(), "");
    assert.ok(result.ok);
  });

  it("the harness reports a user's type error, and a declaration importing a package without types", async () => {
    const result = await compileUserProject({
      packages: { ...NODE_TYPES, ws: installed("ws") },
      files: {},
      sources: {
        "wrong.ts": `export const n: number = "1";\n`,
        "leak.d.ts": `import type { WebSocket } from "ws";\nexport declare const ws: WebSocket;\n`,
      },
      preserveSymlinks: true,
    });
    assert.equal(result.ok, false);
    assert.match(result.output, /wrong\.ts.*TS2322/);
    assert.match(result.output, /leak\.d\.ts.*TS7016/);
  });
});
