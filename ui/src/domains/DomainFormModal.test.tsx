// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { FakeApi, installDomShims, json } from "../test/fakeApi";
import { renderApp } from "../test/render";
import { DomainFormModal } from "./DomainFormModal";

beforeAll(installDomShims);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** The error antd shows under the form item holding `testId`. */
function fieldError(testId: string): string | null {
  const item = screen.getByTestId(testId).closest(".ant-form-item");
  return item?.querySelector(".ant-form-item-explain-error")?.textContent ?? null;
}

describe("DomainFormModal", () => {
  it("checks the name pattern before asking the server", async () => {
    const api = new FakeApi(() => json(201, {})).install();
    renderApp(<DomainFormModal open editing={null} onClose={() => undefined} />);
    fireEvent.change(await screen.findByTestId("domain-name"), { target: { value: "Team A" } });
    fireEvent.click(screen.getByTestId("domain-form-submit"));
    await waitFor(() => expect(fieldError("domain-name")).toMatch(/Lowercase letters, digits/));
    expect(api.requests).toHaveLength(0);
  });

  it("shows the server's 409 at the name field and stays open", async () => {
    new FakeApi(() => json(409, { detail: "domain 'ops' already exists" })).install();
    const onClose = vi.fn();
    renderApp(<DomainFormModal open editing={null} onClose={onClose} />);
    fireEvent.change(await screen.findByTestId("domain-name"), { target: { value: "ops" } });
    fireEvent.click(screen.getByTestId("domain-form-submit"));
    await waitFor(() => expect(fieldError("domain-name")).toBe("domain 'ops' already exists"));
    expect(onClose).not.toHaveBeenCalled();
  });

  it("creates with the description trimmed, and edits only the description", async () => {
    const api = new FakeApi((r) => json(r.method === "POST" ? 201 : 200, { name: "ops", description: "x", created_at: "2026-01-01T00:00:00Z", jobs: 0, tokens: 0 })).install();
    const onCreated = vi.fn();
    renderApp(<DomainFormModal open editing={null} onClose={() => undefined} onCreated={onCreated} />);
    fireEvent.change(await screen.findByTestId("domain-name"), { target: { value: "ops" } });
    fireEvent.change(screen.getByTestId("domain-description"), { target: { value: "  the ops team " } });
    fireEvent.click(screen.getByTestId("domain-form-submit"));
    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    expect(api.requests[0]?.body).toEqual({ name: "ops", description: "the ops team" });
    cleanup();

    renderApp(<DomainFormModal open editing={{ name: "ops", description: "old", created_at: "2026-01-01T00:00:00Z", jobs: 0, tokens: 0, ai_enabled: true }} onClose={() => undefined} />);
    expect((await screen.findByTestId("domain-name")).hasAttribute("disabled")).toBe(true);
    fireEvent.change(screen.getByTestId("domain-description"), { target: { value: "" } });
    fireEvent.click(screen.getByTestId("domain-form-submit"));
    await waitFor(() => expect(api.requests).toHaveLength(2));
    expect(api.requests[1]?.method).toBe("PATCH");
    expect(api.requests[1]?.path).toBe("/api/v1/domains/ops");
    expect(api.requests[1]?.body).toEqual({ description: null });
  });
});
