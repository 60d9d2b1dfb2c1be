import { Space, Tag } from "antd";
import { RUN_STATUSES, type RunStatus } from "../api/types";
import { STATUS_COLOR, statusLabel } from "../common/statusLook";

/** Counts by status as a row of chips. */
export function StatusCounts({ counts }: { counts: Record<string, number> }) {
  return (
    <Space wrap size={[8, 8]} data-testid="status-counts">
      {RUN_STATUSES.map((s: RunStatus) => (
        <Tag key={s} color={(counts[s] ?? 0) > 0 ? STATUS_COLOR[s] : undefined} style={{ minWidth: 92 }}>
          {statusLabel(s)}: <b>{counts[s] ?? 0}</b>
        </Tag>
      ))}
    </Space>
  );
}
