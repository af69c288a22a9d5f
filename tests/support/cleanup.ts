import { afterAll } from "bun:test";
import { removeTempDirs } from "./temp-dirs.ts";

// Preloaded for every `bun test` run (bunfig.toml): a global afterAll runs once, after the last file.
afterAll(() => {
  removeTempDirs();
});
