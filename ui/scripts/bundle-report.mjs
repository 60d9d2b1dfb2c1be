// What each page makes the browser download before it can show anything: the entry's chunks
// plus the page's own, with what they import statically (gzip sizes, as served).
//   npm run bundle-report           (builds into a temporary directory; dist/ is left alone)
//   npm run bundle-report -- --check  also fails when the shell every page loads first carries a
//                                     library that only some pages show (test-ui.sh runs this)
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const PAGES = {
  "sign-in": "src/auth/SignInPage.tsx",
  dashboard: "src/dashboard/DashboardPage.tsx",
  jobs: "src/jobs/JobsPage.tsx",
  "job detail": "src/jobs/JobDetailPage.tsx",
  "job editor": "src/jobs/JobEditorPage.tsx",
  runs: "src/runs/RunsPage.tsx",
  "run detail": "src/runs/RunDetailPage.tsx",
  workers: "src/workers/WorkersPage.tsx",
};

// Libraries the shell (every page loads it first) must leave to the pages that show them: selects,
// tables, the code editor. (Forms cannot leave it: antd's ConfigProvider imports rc-field-form.)
const NOT_IN_SHELL = ["rc-select", "rc-virtual-list", "rc-table", "rc-tree", "@codemirror/", "@lezer/"];
const check = process.argv.includes("--check");

const out = mkdtempSync(join(tmpdir(), "hydra-ui-bundle-"));
try {
  execFileSync("npx", ["vite", "build", "--manifest", "--sourcemap", "--outDir", out, "--emptyOutDir"], { stdio: "ignore" });
  const manifest = JSON.parse(readFileSync(join(out, ".vite", "manifest.json"), "utf8"));
  const gz = new Map();
  const size = (file) => {
    if (!gz.has(file)) gz.set(file, gzipSync(readFileSync(join(out, file))).length);
    return gz.get(file);
  };
  const closure = (key, seen = new Set()) => {
    if (seen.has(key) || !manifest[key]) return seen;
    seen.add(key);
    for (const dep of manifest[key].imports ?? []) closure(dep, seen);
    return seen;
  };
  const entry = Object.keys(manifest).find((k) => manifest[k].isEntry);
  const shell = closure(entry);
  const kb = (files) => ([...files].reduce((sum, f) => sum + size(f), 0) / 1024).toFixed(1).padStart(7);
  const files = (keys) => {
    const set = new Set();
    for (const k of keys) {
      set.add(manifest[k].file);
      for (const css of manifest[k].css ?? []) set.add(css);
    }
    return set;
  };
  const leaks = [];
  for (const key of shell) {
    const file = manifest[key].file;
    const map = join(out, `${file}.map`);
    if (!existsSync(map)) continue; // the bundler's own runtime: no sources
    const { sources } = JSON.parse(readFileSync(map, "utf8"));
    for (const lib of NOT_IN_SHELL) {
      if (sources.some((s) => s.includes(`node_modules/${lib}`))) leaks.push(`${lib} (in ${file})`);
    }
  }
  console.log(`page         first load, kB gzip (shell ${kb(files(shell)).trim()} + the page's own)`);
  for (const [name, src] of Object.entries(PAGES)) {
    // A page that is not a chunk of its own is bundled into the shell.
    const own = manifest[src] ? [...closure(src)].filter((k) => !shell.has(k)) : [];
    console.log(`${name.padEnd(12)} ${kb(files([...shell, ...own]))}${manifest[src] ? "" : "  (in the shell)"}`);
  }
  if (leaks.length) {
    console.log(`the shell carries what only some pages show: ${leaks.join(", ")}`);
    if (check) process.exitCode = 1;
  } else {
    console.log(`the shell carries none of: ${NOT_IN_SHELL.join(", ")}`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
