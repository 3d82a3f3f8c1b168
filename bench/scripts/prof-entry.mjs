// Scratch: a Switchboard entry that CPU-profiles the server process.
// BENCH_SWITCHBOARD_ENTRY=bench/scripts/prof-entry.mjs PROF_OUT=/tmp/x.cpuprofile node --import tsx bench/run.ts ...
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";

const session = new Session();
session.connect();
session.post("Profiler.enable");
session.post("Profiler.setSamplingInterval", { interval: 200 });
session.post("Profiler.start");
process.on("exit", () => {
  session.post("Profiler.stop", (err, { profile }) => {
    if (!err)
      writeFileSync(process.env.PROF_OUT ?? "/tmp/switchboard.cpuprofile", JSON.stringify(profile));
  });
});

export * from "../../dist/index.js";
