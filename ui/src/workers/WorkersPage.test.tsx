// @vitest-environment jsdom
import { cleanup, fireEvent, screen } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Worker } from "../api/types";
import { FakeApi, installDomShims, json } from "../test/fakeApi";
import { renderApp } from "../test/render";
import { WorkersPage } from "./WorkersPage";

beforeAll(installDomShims);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function worker(name: string, status: Worker["status"]): Worker {
  return {
    id: `w-${name}`,
    name,
    status,
    domain: "default",
    concurrency: 1,
    executors: ["shell"],
    hostname: "host",
    platform: "linux",
    queues: ["default"],
    version: "1.0",
    started_at: "2026-12-05T08:00:00Z",
    last_heartbeat_at: "2026-12-05T09:00:00Z",
  };
}

const WORKERS = [worker("up", "online"), worker("leaving", "draining"), worker("gone-1", "offline"), worker("gone-2", "offline")];

const names = () => screen.queryAllByTestId("worker-name").map((n) => n.textContent);

describe("WorkersPage", () => {
  it("shows online and draining workers; offline ones only when asked, with their count", async () => {
    new FakeApi((r) => (r.path === "/api/v1/workers" ? json(200, { items: WORKERS }) : undefined)).install();
    renderApp(<WorkersPage />, { path: "/workers" });
    await screen.findAllByTestId("worker-name");
    expect(names()).toEqual(["up", "leaving"]);
    expect(screen.getByTestId("offline-count").textContent).toBe("Show offline workers (2)");

    fireEvent.click(screen.getByTestId("show-offline"));
    expect(names()).toEqual(["up", "leaving", "gone-1", "gone-2"]);
    fireEvent.click(screen.getByTestId("show-offline"));
    expect(names()).toEqual(["up", "leaving"]);
  });

  it("says how many offline workers it hides when none is online", async () => {
    new FakeApi((r) => (r.path === "/api/v1/workers" ? json(200, { items: [worker("gone", "offline")] }) : undefined)).install();
    renderApp(<WorkersPage />, { path: "/workers" });
    expect(await screen.findByText("No worker online (1 offline worker hidden)")).toBeTruthy();
    expect(names()).toEqual([]);
  });
});
