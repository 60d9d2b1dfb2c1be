import { describe, expect, it } from "vitest";
import { applyForm, jobToSpec, NEW_JOB, parseSpecText, specText, specToForm } from "./jobForm";

const FULL = {
  name: "nightly-report",
  description: "Send the report",
  executor: { type: "python", script: "print('hi')", interpreter: "/usr/bin/python3" },
  source: { url: "https://example.org/team/repo.git", ref: "main" },
  schedule: { cron: "0 2 * * *", timezone: "Europe/Berlin" },
  env: { REPORT_DAYS: "7" },
  params: { day: { default: "today", description: "Which day" }, force: { required: true } },
  timeout_seconds: 3600,
  retries: { max_attempts: 3, backoff_seconds: 10, backoff_factor: 2, jitter: 0.2 },
  concurrency: { max_running: 1, overlap: "skip" },
  catchup: "latest",
  queue: "reports",
  tags: ["linux", "nightly"],
  enabled: false,
  retention_days: 30,
};

describe("form <-> JSON sync", () => {
  it("reads every common field from a spec", () => {
    const v = specToForm(FULL);
    expect(v).toMatchObject({
      name: "nightly-report",
      description: "Send the report",
      executorType: "python",
      script: "print('hi')",
      interpreter: "/usr/bin/python3",
      scheduleKind: "cron",
      cron: "0 2 * * *",
      timezone: "Europe/Berlin",
      env: [{ key: "REPORT_DAYS", value: "7" }],
      timeoutSeconds: 3600,
      maxAttempts: 3,
      backoffSeconds: 10,
      maxRunning: 1,
      overlap: "skip",
      catchup: "latest",
      queue: "reports",
      tags: ["linux", "nightly"],
      enabled: false,
    });
    expect(v.params).toEqual([
      { name: "day", default: "today", description: "Which day", required: false },
      { name: "force", default: "", description: "", required: true },
    ]);
  });

  it("round-trips a full spec unchanged, keeping fields the form does not show", () => {
    expect(applyForm(FULL, specToForm(FULL))).toEqual(FULL);
  });

  it("writes a form edit into the JSON and keeps the rest", () => {
    const values = { ...specToForm(FULL), script: "echo changed", cron: "*/5 * * * *", tags: ["x"] };
    const spec = applyForm(FULL, values);
    expect(spec.executor).toEqual({ type: "python", script: "echo changed", interpreter: "/usr/bin/python3" });
    expect(spec.schedule).toEqual({ cron: "*/5 * * * *", timezone: "Europe/Berlin" });
    expect(spec.tags).toEqual(["x"]);
    expect(spec.source).toEqual(FULL.source);
    expect(spec.retries).toEqual(FULL.retries);
    expect(spec.retention_days).toBe(30);
  });

  it("switches schedule kinds", () => {
    const base = specToForm(FULL);
    expect(applyForm(FULL, { ...base, scheduleKind: "interval", intervalSeconds: 90 }).schedule).toEqual({ interval_seconds: 90 });
    expect(applyForm(FULL, { ...base, scheduleKind: "at", at: "2030-01-01T00:00:00Z", timezone: "" }).schedule).toEqual({
      at: "2030-01-01T00:00:00Z",
    });
    expect("schedule" in applyForm(FULL, { ...base, scheduleKind: "none" })).toBe(false);
  });

  it("keeps a new job's JSON minimal", () => {
    const values = { ...specToForm(NEW_JOB), name: "hello", script: "echo hi" };
    expect(applyForm(NEW_JOB, values)).toEqual({ name: "hello", executor: { type: "shell", script: "echo hi" }, enabled: true });
  });

  it("drops the interpreter unless the executor is python", () => {
    const spec = applyForm(FULL, { ...specToForm(FULL), executorType: "shell" });
    expect(spec.executor).toEqual({ type: "shell", script: "print('hi')" });
  });

  it("reads anything the JSON editor holds without throwing", () => {
    for (const junk of [null, 42, "x", [], { executor: "no", schedule: 5, env: [], params: { a: 1 }, tags: [1, "t"] }]) {
      const v = specToForm(junk);
      expect(v.executorType).toBe("shell");
      expect(v.scheduleKind).toBe("none");
    }
    expect(specToForm({ tags: [1, "t"] }).tags).toEqual(["t"]);
  });

  it("reads and writes the git source; switching to an inline script removes it", () => {
    const v = specToForm(FULL);
    expect(v).toMatchObject({ sourceKind: "git", gitUrl: "https://example.org/team/repo.git", gitRef: "main", gitPath: "" });
    const edited = applyForm(FULL, { ...v, gitRef: "", gitPath: "jobs/nightly" });
    expect(edited.source).toEqual({ url: "https://example.org/team/repo.git", path: "jobs/nightly" });
    expect(specToForm(edited)).toMatchObject({ sourceKind: "git", gitRef: "", gitPath: "jobs/nightly" });
    expect("source" in applyForm(FULL, { ...v, sourceKind: "inline" })).toBe(false);

    const fromScratch = applyForm(NEW_JOB, { ...specToForm(NEW_JOB), name: "g", script: "./run.sh", sourceKind: "git", gitUrl: "file:///srv/repo" });
    expect(fromScratch).toEqual({ name: "g", executor: { type: "shell", script: "./run.sh" }, source: { url: "file:///srv/repo" }, enabled: true });
    expect(specToForm(NEW_JOB).sourceKind).toBe("inline");
  });

  it("keeps keys of the source it does not know, and a source the JSON holds in a wrong shape stays a git source", () => {
    const spec = { ...FULL, source: { url: "https://example.org/r.git", depth: 1 } };
    expect(applyForm(spec, { ...specToForm(spec), gitRef: "v2" }).source).toEqual({ url: "https://example.org/r.git", depth: 1, ref: "v2" });
    const wrong = { name: "w", executor: { type: "shell", script: "true" }, source: "https://example.org/r.git" };
    expect(specToForm(wrong)).toMatchObject({ sourceKind: "git", gitUrl: "" });
    expect(specToForm({ ...wrong, source: null }).sourceKind).toBe("inline");
  });

  it("parses JSON text into a spec or explains why not", () => {
    expect(parseSpecText('{"name": "a"}')).toEqual({ spec: { name: "a" } });
    expect(parseSpecText("[1]")).toEqual({ error: "A job spec is a JSON object: { … }" });
    expect("error" in parseSpecText("{nope")).toBe(true);
    expect(parseSpecText(specText(FULL))).toEqual({ spec: FULL });
  });

  it("turns a saved job into its spec", () => {
    const job = { ...FULL, id: "j1", domain: "default", paused: false, created_at: "x", updated_at: "y", next_fire_at: null,
      last_run_id: null, last_run_status: null, last_run_at: null, description: null, schedule: { cron: "0 2 * * *", timezone: null, interval_seconds: null, at: null } };
    const spec = jobToSpec(job);
    expect(spec.id).toBeUndefined();
    expect(spec.description).toBeUndefined();
    expect(spec.schedule).toEqual({ cron: "0 2 * * *" });
    expect(jobToSpec({ ...job, source: { url: "https://example.org/r.git", ref: null, path: null } }).source).toEqual({ url: "https://example.org/r.git" });
  });

  it("carries alert rules and the domain-rules switch both ways", () => {
    const draft = { name: "a", executor: { type: "shell", script: "x" }, notify: [{ channel: "ops", on: ["failed"], after_failures: 3 }], domain_notify: false };
    const values = specToForm(draft);
    expect(values.notify[0]).toMatchObject({ channel: "ops", on: ["failed"], afterFailures: 3 });
    expect(values.domainNotify).toBe(false);
    expect(applyForm(draft, values)).toMatchObject({ notify: [{ channel: "ops", on: ["failed"], after_failures: 3 }], domain_notify: false });
    const plain = applyForm(draft, { ...values, notify: [], domainNotify: true });
    expect(plain.notify).toBeUndefined();
    expect(plain.domain_notify).toBeUndefined();
  });
});
