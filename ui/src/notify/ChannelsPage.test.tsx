// @vitest-environment jsdom
import { cleanup, fireEvent, screen, within } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { ChannelInfo, Delivery } from "../api/types";
import { FakeApi, installDomShims, json } from "../test/fakeApi";
import { renderApp } from "../test/render";
import { ChannelsPage } from "./ChannelsPage";

beforeAll(installDomShims);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const CHANNEL = {
  name: "ops",
  type: "webhook",
  target: "https://hooks.example/x",
  has_secret: false,
  created_at: "2026-12-05T08:00:00Z",
} as unknown as ChannelInfo;

function delivery(): Delivery {
  return {
    id: "d1",
    domain: "default",
    channel: "ops",
    channel_type: "webhook",
    event: "test",
    status: "pending",
    attempts: 0,
    created_at: "2026-12-05T08:00:01Z",
  } as unknown as Delivery;
}

describe("sending a test notification", { timeout: 30_000 }, () => {
  it("shows it in the delivery log even when the log's first read was answered before it was stored", async () => {
    const stored: Delivery[] = [];
    let posted!: () => void;
    const afterPost = new Promise<void>((resolve) => (posted = resolve));
    let reads = 0;
    new FakeApi(async (r) => {
      if (r.path === "/api/v1/channels") return json(200, { items: [CHANNEL], next_cursor: null });
      if (r.path === "/api/v1/channels/ops/test" && r.method === "POST") {
        const row = delivery();
        stored.push(row);
        posted();
        return json(202, row);
      }
      if (r.path === "/api/v1/channels/ops/deliveries") {
        reads += 1;
        // The server read the log before the test was stored, and its answer arrives after the
        // test's: the first read says "nothing yet", and only a later one can show the test.
        const snapshot = [...stored];
        if (reads === 1) await afterPost;
        return json(200, { items: snapshot, next_cursor: null });
      }
      return json(404, { detail: `no fake route for ${r.method} ${r.path}` });
    }).install();
    renderApp(<ChannelsPage />);

    fireEvent.click(await screen.findByTestId("test-channel"));

    const log = await screen.findByTestId("channel-log");
    expect(await within(log).findByText("pending", {}, { timeout: 5_000 })).toBeTruthy();
    expect(reads).toBeGreaterThanOrEqual(2);
  });
});
