// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { App } from "antd";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { LogBuffer } from "./logBuffer";
import { LogViewer, type LogFocus } from "./LogViewer";

beforeAll(() => {
  // jsdom has no layout: give the scroll box a size so the virtualiser renders a window of rows.
  Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 400 });
  Object.defineProperty(HTMLElement.prototype, "offsetHeight", { configurable: true, get: () => 400 });
  Object.defineProperty(HTMLElement.prototype, "offsetWidth", { configurable: true, get: () => 800 });
  // antd asks for media queries; jsdom has none.
  const matchMedia = (query: string): Partial<MediaQueryList> => ({
    matches: false,
    media: query,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
  });
  Object.defineProperty(window, "matchMedia", { configurable: true, value: matchMedia });
});

afterEach(cleanup);

function viewer(buffer: LogBuffer, live: boolean, focus: LogFocus | null = null) {
  return (
    <App>
      <LogViewer buffer={buffer} version={buffer.lineCount} live={live} fileName="x.log" emptyText="nothing yet" height={400} focus={focus} />
    </App>
  );
}

function view(buffer: LogBuffer, live = false) {
  return render(viewer(buffer, live));
}

describe("LogViewer", () => {
  it("renders job output as text: markup stays literal, colours become styles", () => {
    const buffer = new LogBuffer();
    buffer.append("<img src=x onerror=alert(1)>\n\x1b[31mred <b>bold?</b>\x1b[0m\n");
    const { container } = view(buffer);
    const viewer = screen.getByTestId("log-viewer");
    expect(viewer.textContent).toContain("<img src=x onerror=alert(1)>");
    expect(viewer.textContent).toContain("red <b>bold?</b>");
    expect(container.querySelector(".log-scroll img")).toBeNull();
    expect(container.querySelector(".log-scroll b")).toBeNull();
    const red = [...container.querySelectorAll<HTMLSpanElement>(".log-text span")].find((s) => s.textContent === "red <b>bold?</b>");
    expect(red?.style.color).toBe("rgb(205, 49, 49)");
  });

  it("numbers lines and renders only a window of a 100,000-line log", () => {
    const buffer = new LogBuffer();
    buffer.append(Array.from({ length: 100_000 }, (_, i) => `line ${i + 1}`).join("\n") + "\n");
    view(buffer);
    const rows = screen.getAllByTestId("log-line");
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(200);
    expect(screen.getByTestId("log-line-count").textContent).toMatch(/100[,.\u00a0 ]?000 lines/);
    const first = rows[0];
    expect(first?.querySelector(".log-gutter")?.textContent).toBe(first?.getAttribute("data-line"));
  });

  it("counts one line in the singular", async () => {
    const buffer = new LogBuffer();
    buffer.append("only error here\n");
    view(buffer);
    expect(screen.getByTestId("log-line-count").textContent).toBe("1 line");
    fireEvent.change(screen.getByPlaceholderText("Search the log"), { target: { value: "error" } });
    await waitFor(() => expect(screen.getByTestId("log-match-count").textContent).toBe("1 / 1 line"));
  });

  it("searches and highlights matches", async () => {
    const buffer = new LogBuffer();
    buffer.append("alpha\nbeta ERROR here\ngamma\nerror again\n");
    view(buffer);
    await act(async () => {
      fireEvent.change(screen.getByPlaceholderText("Search the log"), { target: { value: "error" } });
      await new Promise((r) => setTimeout(r, 250));
    });
    expect(screen.getByTestId("log-match-count").textContent).toBe("1 / 2 lines");
    const marks = [...document.querySelectorAll("mark.log-hit")].map((m) => m.textContent);
    expect(marks).toEqual(["ERROR", "error"]);
  });

  it("says so when there is no output yet", () => {
    view(new LogBuffer(), true);
    expect(screen.getByText("nothing yet")).toBeTruthy();
  });

  it("jumps to a line far down a virtualised log and highlights it (an analysis' evidence)", async () => {
    // jsdom does not scroll: keep scrollTop and send the scroll event, as a browser would.
    const tops = new WeakMap<Element, number>();
    Object.defineProperty(HTMLElement.prototype, "scrollTop", {
      configurable: true,
      get(this: HTMLElement) {
        return tops.get(this) ?? 0;
      },
      set(this: HTMLElement, value: number) {
        tops.set(this, value);
      },
    });
    Object.defineProperty(HTMLElement.prototype, "scrollHeight", { configurable: true, get: () => 100_000 * 19 });
    Object.defineProperty(HTMLElement.prototype, "scrollTo", {
      configurable: true,
      value(this: HTMLElement, options: ScrollToOptions) {
        this.scrollTop = options.top ?? 0;
        setTimeout(() => this.dispatchEvent(new Event("scroll")), 0);
      },
    });
    const buffer = new LogBuffer();
    buffer.append(Array.from({ length: 100_000 }, (_, i) => `line ${i + 1}`).join("\n") + "\n");
    const { rerender } = render(viewer(buffer, false));
    expect(document.querySelector("[data-line='70000']")).toBeNull();
    await act(async () => {
      rerender(viewer(buffer, false, { line: 70_000, seq: 1 }));
      await new Promise((r) => setTimeout(r, 50));
    });
    expect(screen.getByTestId("log-scroll").scrollTop).toBeGreaterThan(69_000 * 19);
    const focused = document.querySelectorAll("[data-focused=true]");
    expect(focused).toHaveLength(1);
    expect(focused[0]?.getAttribute("data-line")).toBe("70000");
    expect(focused[0]?.textContent).toContain("line 70000");
    expect(focused[0]?.classList.contains("log-row-focus")).toBe(true);
    for (const name of ["scrollTop", "scrollHeight", "scrollTo"]) Reflect.deleteProperty(HTMLElement.prototype, name);
  });
});
