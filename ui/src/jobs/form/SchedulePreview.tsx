import { Card, List, Typography } from "antd";
import { formatInZone, formatRelative } from "../../common/format";
import { useNow } from "../../common/useNow";

/** The next fire times, in the job's timezone and relative to now. */
export function SchedulePreview({
  fires,
  timezone,
  loading,
  note,
}: {
  fires: string[];
  timezone: string;
  loading: boolean;
  note?: string;
}) {
  const now = useNow(10_000);
  return (
    <Card size="small" title="Next fire times" extra={<Typography.Text type="secondary">{timezone || "UTC"}</Typography.Text>}>
      <List
        size="small"
        loading={loading}
        dataSource={fires}
        locale={{ emptyText: note ?? "No upcoming fires" }}
        renderItem={(iso) => (
          <List.Item data-testid="next-fire">
            <span className="mono">{formatInZone(iso, timezone || "UTC")}</span>
            <Typography.Text type="secondary">{formatRelative(iso, now)}</Typography.Text>
          </List.Item>
        )}
      />
    </Card>
  );
}
