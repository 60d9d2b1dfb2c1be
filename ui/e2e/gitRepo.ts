/**
 * A throwaway origin repository for the browser tests, made with the real git binary in a temp dir
 * (as tests/integration/test_git_source.py does): no developer config leaks in.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

export class GitRepo {
  readonly dir: string;

  constructor() {
    this.dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hydra-e2e-git-")), "origin");
    fs.mkdirSync(this.dir);
    this.git("init", "-q", "-b", "main");
  }

  /** The file:// URL a worker with HYDRA_GIT_ALLOW_FILE=true fetches. */
  get url(): string {
    return pathToFileURL(this.dir).href;
  }

  git(...args: string[]): string {
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: this.dir,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.org",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.org",
    };
    return execFileSync("git", args, { cwd: this.dir, env, encoding: "utf8" }).trim();
  }

  /** Writes the files (scripts ending in .sh executable), commits them, returns the commit SHA. */
  commit(files: Record<string, string>, message = "change"): string {
    for (const [name, text] of Object.entries(files)) {
      const target = path.join(this.dir, name);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, text, { mode: name.endsWith(".sh") ? 0o755 : 0o644 });
    }
    this.git("add", "-A");
    this.git("commit", "-q", "-m", message);
    return this.git("rev-parse", "HEAD");
  }

  remove(): void {
    fs.rmSync(path.dirname(this.dir), { recursive: true, force: true });
  }
}
