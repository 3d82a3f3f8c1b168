/**
 * The demo's static file handler over real HTTP: content types, HEAD, 404 and
 * 405, and every traversal attempt (dot segments, encoded slashes and dots,
 * NUL, dotfiles, a symlink leading out of the root) refused.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createStaticHandler, resolveFile } from "../../src/cli/static.js";

const base = mkdtempSync(join(tmpdir(), "switchboard-static-"));
const root = join(base, "public");
mkdirSync(join(root, "sub"), { recursive: true });
writeFileSync(join(root, "index.html"), "<!doctype html><title>demo</title>");
writeFileSync(join(root, "app.js"), "console.log(1);");
writeFileSync(join(root, "style.css"), "body{}");
writeFileSync(join(root, "data.bin"), Buffer.from([1, 2, 3]));
writeFileSync(join(root, "sub", "index.html"), "sub index");
writeFileSync(join(root, ".env"), "SECRET=1");
writeFileSync(join(base, "secret.txt"), "outside the root");
symlinkSync(join(base, "secret.txt"), join(root, "escape.txt"));
symlinkSync(join(root, "app.js"), join(root, "alias.js"));

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request, so the path reaches the server exactly as written (fetch would normalize it). */
function raw(port: number, path: string, method = "GET"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method }, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("static file handler", () => {
  const handler = createStaticHandler(root);
  const server = createServer((req, res) => void handler(req, res));
  let port = 0;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(() => {
    rmSync(base, { recursive: true, force: true });
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("serves files with their content types", { timeout: 5000 }, async () => {
    const index = await raw(port, "/");
    assert.equal(index.status, 200);
    assert.equal(index.headers["content-type"], "text/html; charset=utf-8");
    assert.match(String(index.headers["content-security-policy"]), /default-src 'self'/);
    assert.equal(index.body, "<!doctype html><title>demo</title>");
    assert.equal((await raw(port, "/index.html?x=1")).body, index.body);
    const js = await raw(port, "/app.js");
    assert.equal(js.headers["content-type"], "text/javascript; charset=utf-8");
    assert.equal(js.headers["x-content-type-options"], "nosniff");
    assert.equal(js.headers["content-length"], "15");
    assert.equal(
      (await raw(port, "/style.css")).headers["content-type"],
      "text/css; charset=utf-8",
    );
    assert.equal(
      (await raw(port, "/data.bin")).headers["content-type"],
      "application/octet-stream",
    );
    assert.equal((await raw(port, "/sub/")).body, "sub index");
    assert.equal((await raw(port, "/alias.js")).body, "console.log(1);");
    assert.equal((await raw(port, "/%61pp.js")).body, "console.log(1);");
  });

  it("answers HEAD without a body and other methods with 405", { timeout: 5000 }, async () => {
    const head = await raw(port, "/app.js", "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], "15");
    assert.equal(head.body, "");
    const post = await raw(port, "/app.js", "POST");
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, "GET, HEAD");
  });

  it("answers 404 for missing files and directories", { timeout: 5000 }, async () => {
    assert.equal((await raw(port, "/missing.js")).status, 404);
    assert.equal((await raw(port, "/sub")).status, 404);
    assert.equal((await raw(port, "/app.js/")).status, 404);
  });

  it("never serves anything outside the root", { timeout: 5000 }, async () => {
    const attempts = [
      "/../secret.txt",
      "/sub/../../secret.txt",
      "/%2e%2e/secret.txt",
      "/%2E%2E%2Fsecret.txt",
      "/sub%2F..%2F..%2Fsecret.txt",
      "/..%5Csecret.txt",
      "/escape.txt",
      "/.env",
      "/%2eenv",
      "/app.js%00.html",
    ];
    for (const path of attempts) {
      const reply = await raw(port, path);
      assert.equal(reply.status, 404, `${path} -> ${reply.status}`);
      assert.doesNotMatch(reply.body, /outside the root|SECRET/);
    }
    assert.equal((await raw(port, "/%E0%A4%A")).status, 400);
  });

  it("resolveFile maps targets inside the root only", () => {
    assert.equal(resolveFile(root, "/"), join(root, "index.html"));
    assert.equal(resolveFile(root, "/sub/x.js"), join(root, "sub", "x.js"));
    assert.equal(resolveFile(root, "/a/../../x"), undefined);
    assert.equal(resolveFile(root, "*"), null);
    assert.equal(resolveFile(root, "/%zz"), null);
  });
});
