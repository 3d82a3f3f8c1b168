/**
 * Deletes the `.d.ts` files that no public entry point's types reach: the
 * package's `exports` name the entry declarations, and everything they import
 * (`from "./x.js"`, `import("./x.js")`) is kept. Internal modules (the CLI,
 * transports' helpers) have no types a user can name, and each small file
 * costs a disk block in every install.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";

const REFERENCE = /(?:\bfrom\s+|\bimport\(\s*)"(\.{1,2}\/[^"]+)"/g;

async function* declarations(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* declarations(path);
    else if (entry.name.endsWith(".d.ts")) yield path;
  }
}

/**
 * @param {string} root the package root (holding package.json and dist/)
 * @returns {Promise<{ kept: number, removed: number }>}
 */
export async function pruneDeclarations(root) {
  const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
  const pending = Object.values(pkg.exports)
    .filter((target) => typeof target === "object" && target.types)
    .map((target) => resolve(root, target.types));
  const reached = new Set();
  while (pending.length > 0) {
    const file = pending.pop();
    if (reached.has(file)) continue;
    reached.add(file);
    const text = await readFile(file, "utf8");
    for (const [, specifier] of text.matchAll(REFERENCE)) {
      const target = resolve(dirname(file), specifier).replace(/\.js$/, ".d.ts");
      if (existsSync(target)) pending.push(target);
    }
  }
  let removed = 0;
  for await (const file of declarations(join(root, "dist"))) {
    if (reached.has(file)) continue;
    await rm(file);
    removed++;
  }
  return { kept: reached.size, removed };
}
