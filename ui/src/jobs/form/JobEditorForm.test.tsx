// @vitest-environment jsdom
import { EditorView } from "@codemirror/view";
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { FakeApi, installDomShims, json } from "../../test/fakeApi";
import { renderApp } from "../../test/render";
import { NewJobPage } from "../JobEditorPage";

beforeAll(installDomShims);
// The editor's chunk is imported lazily; load it once up front so no test pays for it alone.
beforeAll(async () => {
  await import("./code/CodeEditor");
}, 60_000);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const URL_ERROR = "Value error, use an https:// or ssh:// URL (or user@host:path)";

function server() {
  return new FakeApi((r) => {
    if (r.path === "/api/v1/ai/providers") return json(200, { providers: [], default: null, enabled: true });
    if (r.path === "/api/v1/jobs/validate") {
      const url = (r.body as { source?: { url?: string } }).source?.url;
      return json(200, url?.startsWith("http://")
        ? { valid: false, errors: [{ loc: ["source", "url"], msg: URL_ERROR, type: "value_error" }], next_fires: [] }
        : { valid: true, errors: [], next_fires: [] });
    }
    if (r.path === "/api/v1/jobs" && r.method === "POST") return json(201, { ...(r.body as object), id: "job-9" });
    return undefined;
  }).install();
}

function specJson(): Record<string, unknown> {
  return JSON.parse(screen.getByTestId<HTMLTextAreaElement>("spec-json").value) as Record<string, unknown>;
}

/** The CodeMirror view behind the script field (it is loaded lazily). */
async function scriptEditor(): Promise<EditorView> {
  const content = await screen.findByTestId("job-script", {}, { timeout: 10_000 });
  const view = EditorView.findFromDOM(content);
  if (!view) throw new Error("no CodeMirror view at job-script");
  return view;
}

/** Typing as CodeMirror receives it: a user transaction at the cursor. */
function type(view: EditorView, text: string) {
  const at = view.state.selection.main.head;
  view.dispatch({ changes: { from: at, insert: text }, selection: { anchor: at + text.length }, userEvent: "input.type" });
}

function change(testId: string, value: string) {
  fireEvent.change(screen.getByTestId(testId), { target: { value } });
}

describe("the job form", () => {
  it("sends what is typed in the code editor with the job it creates", async () => {
    const api = server();
    renderApp(<NewJobPage />, { path: "/jobs/new" });
    change("job-name", "typed");
    const view = await scriptEditor();
    type(view, "echo one\n");
    type(view, 'for i in 1 2; do echo "$i"; done');
    await waitFor(() => expect(specJson().executor).toEqual({ type: "shell", script: 'echo one\nfor i in 1 2; do echo "$i"; done' }));
    fireEvent.click(screen.getByTestId("save-job"));
    await waitFor(() => expect(api.to("/api/v1/jobs", "POST")).toHaveLength(1));
    expect(api.to("/api/v1/jobs", "POST")[0]?.body).toEqual({
      name: "typed",
      executor: { type: "shell", script: 'echo one\nfor i in 1 2; do echo "$i"; done' },
      enabled: true,
    });
  }, 30_000);

  it("shows a script set in the JSON view in the editor, without writing it back over the JSON", async () => {
    const api = server();
    renderApp(<NewJobPage />, { path: "/jobs/new" });
    const view = await scriptEditor();
    // Typed JSON keeps its own layout: the editor taking the value must not re-serialize it.
    const text = '{"name": "j", "executor": {"type": "python", "script": "print(1)\\nprint(2)"}}';
    change("spec-json", text);
    await waitFor(() => expect(view.state.doc.toString()).toBe("print(1)\nprint(2)"));
    // The draft was validated (debounced, so any write-back from the editor has happened by then).
    await waitFor(() => expect(api.to("/api/v1/jobs/validate", "POST").some((r) => (r.body as { name?: string }).name === "j")).toBe(true), { timeout: 10_000 });
    expect(screen.getByTestId<HTMLTextAreaElement>("spec-json").value).toBe(text);
    expect(screen.getByTestId("job-script").closest(".code-editor")?.getAttribute("data-language")).toBe("python");
    expect(view.state.doc.lines).toBe(2);
  }, 30_000);

  it("edits the git source in fields, round-trips it with the JSON view, and shows the server's message at the URL", async () => {
    const api = server();
    renderApp(<NewJobPage />, { path: "/jobs/new" });
    change("job-name", "from-git");
    type(await scriptEditor(), "./report.sh");
    expect(screen.queryByTestId("git-url")).toBeNull();
    fireEvent.click(within(screen.getByTestId("source-kind")).getByText("Git repository"));
    await screen.findByTestId("git-url");
    change("git-url", "http://example.org/r.git");
    change("git-ref", "v1.2");
    change("git-path", "jobs");
    await waitFor(() => expect(specJson().source).toEqual({ url: "http://example.org/r.git", ref: "v1.2", path: "jobs" }));
    // The server's message for source.url is shown at the URL field.
    expect((await screen.findByTestId("error-gitUrl", {}, { timeout: 10_000 })).textContent).toBe(URL_ERROR.replace("Value error, ", ""));

    // JSON → fields: an edited source shows in the fields; an empty ref is absent.
    const spec = specJson();
    change("spec-json", JSON.stringify({ ...spec, source: { url: "https://example.org/team/r.git", path: "jobs/nightly" } }));
    await waitFor(() => expect(screen.getByTestId<HTMLInputElement>("git-url").value).toBe("https://example.org/team/r.git"));
    expect(screen.getByTestId<HTMLInputElement>("git-ref").value).toBe("");
    expect(screen.getByTestId<HTMLInputElement>("git-path").value).toBe("jobs/nightly");
    await waitFor(() => expect(screen.queryByTestId("error-gitUrl")).toBeNull(), { timeout: 10_000 });

    fireEvent.click(screen.getByTestId("save-job"));
    await waitFor(() => expect(api.to("/api/v1/jobs", "POST")).toHaveLength(1));
    expect(api.to("/api/v1/jobs", "POST")[0]?.body).toEqual({
      name: "from-git",
      executor: { type: "shell", script: "./report.sh" },
      source: { url: "https://example.org/team/r.git", path: "jobs/nightly" },
      enabled: true,
    });

    // Back to an inline script: the source leaves the JSON.
    fireEvent.click(within(screen.getByTestId("source-kind")).getByText("Inline script"));
    await waitFor(() => expect("source" in specJson()).toBe(false));
    expect(screen.queryByTestId("git-url")).toBeNull();
  }, 30_000);
});
