// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Domain } from "../api/types";
import { FakeApi, installDomShims, json } from "../test/fakeApi";
import { renderApp } from "../test/render";
import { canDelete, deletePlan, isConfirmed } from "./deletePlan";
import { DeleteDomainModal } from "./DeleteDomainModal";

const EMPTY: Domain = { name: "scratch", description: null, created_at: "2026-01-01T00:00:00Z", jobs: 0, tokens: 1, ai_enabled: true };
const BUSY: Domain = { name: "payments", description: "money", created_at: "2026-01-01T00:00:00Z", jobs: 3, tokens: 2, ai_enabled: true };

beforeAll(installDomShims);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("deletePlan", () => {
  it("an empty domain needs a plain confirmation and no force", () => {
    expect(deletePlan(EMPTY)).toEqual({ force: false, mustType: null });
    expect(isConfirmed(deletePlan(EMPTY), "")).toBe(true);
  });
  it("a domain holding jobs needs force and its name typed exactly", () => {
    const plan = deletePlan(BUSY);
    expect(plan).toEqual({ force: true, mustType: "payments" });
    expect(isConfirmed(plan, "")).toBe(false);
    expect(isConfirmed(plan, "payment")).toBe(false);
    expect(isConfirmed(plan, "Payments")).toBe(false);
    expect(isConfirmed(plan, " payments ")).toBe(true);
  });
  it("never offers to delete the default domain", () => {
    expect(canDelete("default")).toBe(false);
    expect(canDelete("payments")).toBe(true);
  });
});

function deleteServer() {
  return new FakeApi((r) => (r.method === "DELETE" && r.path.startsWith("/api/v1/domains/") ? json(204, null) : undefined)).install();
}

function confirmButton(): HTMLButtonElement {
  return screen.getByTestId<HTMLButtonElement>("delete-domain-confirm");
}

describe("DeleteDomainModal", () => {
  it("for a domain with jobs: says everything goes, wants the name typed, then sends force=true", async () => {
    const api = deleteServer();
    const onDeleted = vi.fn();
    renderApp(<DeleteDomainModal domain={BUSY} onClose={() => undefined} onDeleted={onDeleted} />);
    expect((await screen.findByTestId("delete-domain-warning")).textContent).toMatch(/payments holds 3 jobs.*deletes everything in it/s);
    expect(confirmButton().disabled).toBe(true);

    fireEvent.change(screen.getByTestId("delete-domain-typed"), { target: { value: "payment" } });
    expect(confirmButton().disabled).toBe(true);
    fireEvent.click(confirmButton());
    expect(api.requests).toHaveLength(0);

    fireEvent.change(screen.getByTestId("delete-domain-typed"), { target: { value: "payments" } });
    expect(confirmButton().disabled).toBe(false);
    fireEvent.click(confirmButton());
    await waitFor(() => expect(onDeleted).toHaveBeenCalledWith("payments"));
    const [call] = api.requests;
    expect(call?.path).toBe("/api/v1/domains/payments");
    expect(call?.query.get("force")).toBe("true");
  });

  it("for an empty domain: a plain confirmation that does not force", async () => {
    const api = deleteServer();
    const onDeleted = vi.fn();
    renderApp(<DeleteDomainModal domain={EMPTY} onClose={() => undefined} onDeleted={onDeleted} />);
    await screen.findByTestId("delete-domain-dialog");
    expect(screen.queryByTestId("delete-domain-typed")).toBeNull();
    fireEvent.click(confirmButton());
    await waitFor(() => expect(onDeleted).toHaveBeenCalledWith("scratch"));
    expect(api.requests[0]?.query.get("force")).toBe("false");
  });

  it("shows the server's refusal (jobs created meanwhile) instead of closing", async () => {
    new FakeApi(() => json(409, { detail: "domain 'scratch' holds 1 job(s): delete them first, or pass force=true to delete the domain with everything in it" })).install();
    const onClose = vi.fn();
    renderApp(<DeleteDomainModal domain={EMPTY} onClose={onClose} />);
    fireEvent.click(await screen.findByTestId("delete-domain-confirm"));
    expect((await screen.findByTestId("error-alert")).textContent).toContain("pass force=true");
    expect(onClose).not.toHaveBeenCalled();
  });
});
