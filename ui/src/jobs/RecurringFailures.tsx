/** "Failed the same way N times since ...": the job's recent failures grouped by fingerprint. */
import { Card, List, Space, Tag, Typography } from "antd";
import { Link } from "react-router";
import { categoryLabel } from "../ai/categories";
import type { FailureGroup } from "../api/types";
import { formatDateTime, shortId } from "../common/format";
import { TimeAgo } from "../common/TimeAgo";
import { useJobFailures } from "../hooks/useAi";
import { plural } from "../common/plural";

export function failureHeadline(group: FailureGroup): string {
  if (group.count === 1) return `Failed this way once, ${formatDateTime(group.since)}`;
  return `Failed the same way ${plural(group.count, "time")} since ${formatDateTime(group.since)}`;
}

export function RecurringFailures({ jobId }: { jobId: string }) {
  const failures = useJobFailures(jobId);
  const groups = failures.data?.items ?? [];
  if (groups.length === 0) return null;
  return (
    <Card size="small" title="Recent failures, grouped by how they failed" style={{ marginBottom: 16 }} data-testid="recurring-failures">
      <List
        size="small"
        dataSource={groups}
        renderItem={(g) => (
          <List.Item data-testid="failure-group" data-count={g.count}>
            <Space direction="vertical" size={0} style={{ width: "100%" }}>
              <Space wrap>
                <Tag color="volcano">{categoryLabel(g.category)}</Tag>
                <Typography.Text strong data-testid="failure-headline">
                  {failureHeadline(g)}
                </Typography.Text>
              </Space>
              <Typography.Text className="evidence-text">{g.summary}</Typography.Text>
              <Typography.Text type="secondary">
                latest: <Link to={`/runs/${g.latest_run_id}`}>run {shortId(g.latest_run_id)}</Link>, <TimeAgo iso={g.latest_at} />
              </Typography.Text>
            </Space>
          </List.Item>
        )}
      />
      <Typography.Text type="secondary">Among the job&apos;s last {failures.data?.examined ?? 0} failed runs.</Typography.Text>
    </Card>
  );
}
