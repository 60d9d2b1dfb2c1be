import { Tooltip } from "antd";
import { formatDateTime, formatRelative } from "./format";
import { useNow } from "./useNow";

/** "3 m ago" that keeps itself current, with the exact time on hover. */
export function TimeAgo({ iso }: { iso: string | null | undefined }) {
  const now = useNow(5_000);
  if (!iso) return <span>—</span>;
  return (
    <Tooltip title={formatDateTime(iso)}>
      <span>{formatRelative(iso, now)}</span>
    </Tooltip>
  );
}
