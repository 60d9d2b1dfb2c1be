// @vitest-environment jsdom
import { EditorView } from "@codemirror/view";
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { ConfigProvider, theme } from "antd";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { installDomShims } from "../../../test/fakeApi";
import CodeEditor from "./CodeEditor";
import { isDarkColor } from "./editorTheme";

beforeAll(installDomShims);
afterEach(cleanup);

function viewOf(): EditorView {
  const view = EditorView.findFromDOM(screen.getByTestId("code"));
  if (!view) throw new Error("no editor");
  return view;
}

/** The text of each highlighted token, by its lezer class (e.g. "tok-comment"). */
function tokens(cls: string): string[] {
  return [...screen.getByTestId("code").querySelectorAll(`.${cls}`)].map((el) => el.textContent ?? "");
}

describe("CodeEditor", () => {
  it("reports typing through onChange, but not a value set from outside", () => {
    const onChange = vi.fn();
    const { rerender } = render(<CodeEditor value="echo a" onChange={onChange} language="shell" ariaLabel="Script" testId="code" />);
    rerender(<CodeEditor value="echo b" onChange={onChange} language="shell" ariaLabel="Script" testId="code" />);
    expect(viewOf().state.doc.toString()).toBe("echo b");
    expect(onChange).not.toHaveBeenCalled();
    viewOf().dispatch({ changes: { from: 6, insert: "c" }, userEvent: "input.type" });
    expect(onChange).toHaveBeenCalledWith("echo bc");
  });

  it("labels its content for assistive technology and shows line numbers", () => {
    render(<CodeEditor value={"a\nb\nc"} language="shell" ariaLabel="Script" testId="code" id="job_script" invalid required describedBy="job_script_help" />);
    const content = screen.getByTestId("code");
    expect(content.getAttribute("contenteditable")).toBe("true");
    expect(content.getAttribute("aria-label")).toBe("Script");
    expect(content.id).toBe("job_script");
    expect(content.getAttribute("aria-invalid")).toBe("true");
    expect(content.getAttribute("aria-required")).toBe("true");
    expect(content.getAttribute("aria-describedby")).toBe("job_script_help");
    const gutter = content.closest(".cm-editor")?.querySelector(".cm-lineNumbers");
    expect(gutter?.textContent).toContain("3");
  });

  it("highlights shell, python and batch, switching with the executor type", async () => {
    const script = 'if [ -n "$HOME" ]; then echo hi; fi # done';
    const { rerender } = render(<CodeEditor value={script} language="shell" ariaLabel="Script" testId="code" />);
    await waitFor(() => expect(tokens("tok-comment")).toEqual(["# done"]));
    expect(tokens("tok-keyword")).toEqual(expect.arrayContaining(["if", "then", "fi"]));
    expect(tokens("tok-string").join("")).toContain('"');

    rerender(<CodeEditor value={"def f(x):\n    return 'y'  # c"} language="python" ariaLabel="Script" testId="code" />);
    await waitFor(() => expect(tokens("tok-keyword")).toEqual(expect.arrayContaining(["def", "return"])));
    expect(tokens("tok-string")).toEqual(["'y'"]);
    expect(tokens("tok-comment")).toEqual(["# c"]);

    const bat = ['@echo off', 'REM a comment', ':: another', 'set NAME=%1', 'if exist "%TEMP%\\x" goto :end', 'echo %NAME% !DELAYED!', ':end', 'exit /b 0'].join("\n");
    rerender(<CodeEditor value={bat} language="batch" ariaLabel="Script" testId="code" />);
    await waitFor(() => expect(tokens("tok-comment")).toEqual(["REM a comment", ":: another"]));
    expect(tokens("tok-labelName")).toEqual([":end", ":end"]);
    expect(tokens("tok-variableName2")).toEqual(["%1", "%NAME%", "!DELAYED!"]);
    expect(tokens("tok-keyword")).toEqual(expect.arrayContaining(["if", "exist", "goto", "exit"]));
    expect(tokens("tok-string")).toEqual(['"%TEMP%\\x"']);
    expect(tokens("tok-meta")).toEqual(["@"]);
  });

  it("follows the app's theme: a dark antd theme gives a dark editor", () => {
    render(
      <ConfigProvider theme={{ algorithm: theme.darkAlgorithm }}>
        <CodeEditor value="echo" language="shell" ariaLabel="Script" testId="code" />
      </ConfigProvider>,
    );
    expect(viewOf().state.facet(EditorView.darkTheme)).toBe(true);
    cleanup();
    render(<CodeEditor value="echo" language="shell" ariaLabel="Script" testId="code" />);
    expect(viewOf().state.facet(EditorView.darkTheme)).toBe(false);
    expect(isDarkColor("#141414")).toBe(true);
    expect(isDarkColor("#ffffff")).toBe(false);
    expect(isDarkColor("rgba(0, 0, 0, 0.88)")).toBe(true);
    expect(isDarkColor("not a colour")).toBe(false);
  });
});
