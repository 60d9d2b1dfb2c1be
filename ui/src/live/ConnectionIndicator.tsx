import { Badge, Tooltip } from "antd";
import type { ConnectionState } from "./eventStream";
import { useConnectionState } from "./useConnection";

const LOOK: Record<ConnectionState, { status: "success" | "processing" | "warning" | "default" | "error"; text: string; help: string }> = {
  live: { status: "success", text: "Live", help: "Receiving changes as they happen." },
  connecting: { status: "processing", text: "Connecting", help: "Opening the live event stream…" },
  reconnecting: { status: "warning", text: "Reconnecting", help: "The live stream dropped; reconnecting and resuming where it left off." },
  polling: { status: "warning", text: "Polling", help: "The live stream keeps failing; refreshing every few seconds while retrying." },
  disconnected: { status: "error", text: "Disconnected, retrying", help: "The server cannot be reached (neither the live stream nor a refresh gets through); retrying." },
  offline: { status: "default", text: "Offline", help: "Not connected." },
};

export function ConnectionIndicator() {
  const state = useConnectionState();
  const look = LOOK[state];
  return (
    <Tooltip title={look.help}>
      <span data-testid="connection-state" data-state={state} style={{ whiteSpace: "nowrap" }}>
        <Badge status={look.status} text={<span style={{ color: "inherit" }}>{look.text}</span>} />
      </span>
    </Tooltip>
  );
}
