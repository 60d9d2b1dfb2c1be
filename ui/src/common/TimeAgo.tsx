import { formatDateTime, formatRelative } from "./format";
import { useNow } from "./useNow";

/**
 * "3 m ago" that keeps itself current, with the exact time on hover. The hover text is the
 * browser's own (a `title` set when the pointer arrives): an antd Tooltip per cell made a
 * 50-row table noticeably slower to show (issue 19).
 */
export function TimeAgo({ iso }: { iso: string | null | undefined }) {
  const now = useNow(5_000);
  if (!iso) return <span>—</span>;
  return (
    <span
      className="time-ago"
      onMouseEnter={(e) => {
        e.currentTarget.title = formatDateTime(iso);
      }}
    >
      {formatRelative(iso, now)}
    </span>
  );
}
