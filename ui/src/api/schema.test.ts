/// <reference types="node" />
/** The generated API types must match ui/openapi.json: run `npm run gen:api` after the schema changes. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const UI = path.resolve(import.meta.dirname, "..", "..");

describe("generated API types", () => {
  it("are up to date with openapi.json", () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hydra-schema-")), "schema.d.ts");
    execFileSync(path.join(UI, "node_modules", ".bin", "openapi-typescript"), ["openapi.json", "-o", out], { cwd: UI, stdio: "pipe" });
    const fresh = fs.readFileSync(out, "utf8");
    const committed = fs.readFileSync(path.join(UI, "src", "api", "schema.d.ts"), "utf8");
    expect(committed === fresh, "src/api/schema.d.ts is stale: run `npm run gen:api` in ui/").toBe(true);
  }, 30_000);
});
