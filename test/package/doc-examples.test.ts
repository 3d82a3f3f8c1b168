/**
 * The docs say what users will see. The first example of
 * docs/bayeux-client.md is taken from the markdown as it stands, pointed at a
 * standalone server (what `npm start` runs, on a free port) and run several
 * times in its own process: each run must exit by itself and print exactly the
 * lines its `console.log(...); // <output>` comments promise. Browser bundle
 * paths the docs give in `<script src>` must be ones the standalone server
 * serves.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type RunningServer, startServer } from "../../src/cli/server.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const RUNS = 3;

/** The first fenced block of `lang` in a markdown file. */
function firstBlock(markdown: string, lang: string): string {
  const found = new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, "m").exec(markdown);
  assert.ok(found, `no \`\`\`${lang} block`);
  return found[1];
}

/** The lines an example says it prints: `console.log(...); // <line>`. */
function promisedOutput(source: string): string[] {
  return [...source.matchAll(/^\s*console\.log\(.*\);\s*\/\/ (.+)$/gm)].map((m) => m[1].trim());
}

function runExample(
  file: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", file], {
    cwd: repo,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c;
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c;
  });
  return new Promise((resolve) => {
    // An example that does not end by itself (a connection left open) fails here.
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let server: RunningServer;
const work = mkdtempSync(join(tmpdir(), "sb-doc-examples-"));

before(async () => {
  server = await startServer(
    {
      port: 0,
      host: "127.0.0.1",
      path: "/socket.io",
      bayeuxPath: "/bayeux",
      shutdownTimeout: 2000,
    },
    { log: () => {} },
  );
});

after(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

describe("docs/bayeux-client.md", () => {
  it(`the first example prints what it promises, every time (${RUNS} runs against the standalone server)`, async () => {
    const markdown = readFileSync(join(repo, "docs", "bayeux-client.md"), "utf8");
    const example = firstBlock(markdown, "ts");
    const expected = promisedOutput(example);
    assert.ok(expected.length >= 2, `the example promises ${expected.length} lines`);
    const client = pathToFileURL(join(repo, "src", "bayeux", "client", "index.ts")).href;
    const source = example
      .replace('"switchboard/bayeux-client"', JSON.stringify(client))
      .replace(/127\.0\.0\.1:3000/g, `127.0.0.1:${server.port}`)
      .replace(/port: 3000/g, `port: ${server.port}`);
    assert.notEqual(source, example, "the example's import or port was not found");
    const file = join(work, "example.mts");
    writeFileSync(file, source);
    for (let run = 1; run <= RUNS; run++) {
      const result = await runExample(file);
      assert.equal(result.code, 0, `run ${run} exited ${result.code}: ${result.stderr}`);
      assert.deepEqual(result.stdout.trimEnd().split("\n"), expected, `run ${run}`);
    }
  });

  it("every <script src> in the docs is a path the standalone server serves", async () => {
    const docs = [
      join(repo, "README.md"),
      ...readdirSync(join(repo, "docs")).map((f) => join(repo, "docs", f)),
    ];
    const sources = docs.flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/<script src="(\/[^"]+)"/g)].map((m) => m[1]),
    );
    assert.ok(sources.includes("/bayeux-client.js"), sources.join(", "));
    for (const src of sources) {
      const res = await fetch(`${server.url.replace(/\/$/, "")}${src}`);
      await res.arrayBuffer();
      assert.equal(res.status, 200, src);
    }
  });
});
