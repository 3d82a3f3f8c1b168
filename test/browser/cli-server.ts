/**
 * The standalone CLI server (src/cli/main.ts) in a child process on port 0,
 * for the browser tests of the demo page.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repo = fileURLToPath(new URL("../../", import.meta.url));

export interface CliServer {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  base: string;
}

/** Starts the CLI and resolves once it prints the port it listens on. */
export function startCliServer(): Promise<CliServer> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(repo, "src", "cli", "main.ts"), "--host", "127.0.0.1", "--port", "0"],
    { cwd: repo, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, REDIS_URL: "" } },
  );
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      out += chunk;
      const match = /\(port (\d+),/.exec(out);
      if (match) resolve({ child, base: `http://127.0.0.1:${match[1]}` });
    });
    child.once("exit", (code) => reject(new Error(`server exited ${code} before start`)));
  });
}

/** Stops the CLI with SIGTERM and waits for it to exit. */
export async function stopCliServer(server: CliServer): Promise<void> {
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}
