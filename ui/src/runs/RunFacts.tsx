import { Descriptions, Space, Tag, Typography } from "antd";
import { Link } from "react-router";
import type { Run } from "../api/types";
import { durationBetween, formatDateTime, formatDuration } from "../common/format";
import { useNow } from "../common/useNow";
import { triggerLabel } from "./triggerLabel";

export function RunFacts({ run }: { run: Run }) {
  const now = useNow(1000);
  const params = Object.entries(run.params ?? {});
  return (
    <Descriptions size="small" column={{ xs: 1, md: 2 }} bordered data-testid="run-facts">
      <Descriptions.Item label="Job">
        <Link to={`/jobs/${run.job_id}`}>{run.job_name}</Link>
      </Descriptions.Item>
      <Descriptions.Item label="Exit code">
        <span data-testid="exit-code">{run.exit_code ?? "—"}</span>
      </Descriptions.Item>
      <Descriptions.Item label="Trigger">
        <span data-testid="run-trigger">{triggerLabel(run)}</span>
      </Descriptions.Item>
      <Descriptions.Item label="Attempt">{run.attempt ?? 1}</Descriptions.Item>
      <Descriptions.Item label="Worker">
        {run.worker_id ? <Link to={`/runs?worker=${encodeURIComponent(run.worker_id)}`}>{run.worker_id}</Link> : "—"}
      </Descriptions.Item>
      <Descriptions.Item label="Queue">
        <span className="mono">{run.queue ?? "default"}</span>
      </Descriptions.Item>
      <Descriptions.Item label="Duration">{formatDuration(durationBetween(run.started_at, run.finished_at, now))}</Descriptions.Item>
      <Descriptions.Item label="Scheduled for">{run.scheduled_for ? formatDateTime(run.scheduled_for) : "—"}</Descriptions.Item>
      {run.not_before && <Descriptions.Item label="Not before">{formatDateTime(run.not_before)}</Descriptions.Item>}
      {run.source_commit && (
        <Descriptions.Item label="Source commit">
          <span className="mono">{run.source_commit}</span>
        </Descriptions.Item>
      )}
      {(run.lost_count ?? 0) > 0 && <Descriptions.Item label="Worker lost">{run.lost_count} times</Descriptions.Item>}
      <Descriptions.Item label="Parameters" span={2}>
        {params.length === 0 ? (
          <span className="muted">none</span>
        ) : (
          <Space wrap size={4} data-testid="run-params">
            {params.map(([k, v]) => (
              <Tag key={k} className="mono">
                {k}={v}
              </Tag>
            ))}
          </Space>
        )}
      </Descriptions.Item>
      {run.error && (
        <Descriptions.Item label="Error" span={2}>
          <Typography.Text type="danger" data-testid="run-error">
            {run.error}
          </Typography.Text>
        </Descriptions.Item>
      )}
    </Descriptions>
  );
}
