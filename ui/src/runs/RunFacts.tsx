import { Descriptions, Space, Tag, Typography } from "antd";
import type { ReactNode } from "react";
import { Link } from "react-router";
import type { Run } from "../api/types";
import { durationBetween, formatDateTime, formatDuration } from "../common/format";
import { useNow } from "../common/useNow";
import { triggerLabel } from "./triggerLabel";
import { plural } from "../common/plural";

/** px: the widest label ("Scheduled for") with its padding; the values share the rest evenly. */
const FACT_LABEL_WIDTH = 128;

/** A short value (id, queue, worker, status) on one line: never broken mid-word, an ellipsis and its title when too long. */
function OneLine({ text, mono, children }: { text: string; mono?: boolean; children?: ReactNode }) {
  return (
    <span className={mono ? "one-line-value mono" : "one-line-value"} title={text}>
      {children ?? text}
    </span>
  );
}

export function RunFacts({ run }: { run: Run }) {
  const now = useNow(1000);
  const params = Object.entries(run.params ?? {});
  return (
    <Descriptions
      size="small"
      column={{ xs: 1, sm: 1, md: 2, lg: 2, xl: 2, xxl: 2 }}
      bordered
      className="run-facts"
      styles={{ label: { whiteSpace: "nowrap", width: FACT_LABEL_WIDTH } }}
      data-testid="run-facts"
    >
      <Descriptions.Item label="Job">
        <OneLine text={run.job_name}>
          <Link to={`/jobs/${run.job_id}`}>{run.job_name}</Link>
        </OneLine>
      </Descriptions.Item>
      <Descriptions.Item label="Job version">
        {run.job_version ? (
          <Link to={`/jobs/${run.job_id}#history`} data-testid="run-job-version">
            v{run.job_version}
          </Link>
        ) : (
          "—"
        )}
      </Descriptions.Item>
      <Descriptions.Item label="Exit code">
        <span data-testid="exit-code">{run.exit_code ?? "—"}</span>
      </Descriptions.Item>
      <Descriptions.Item label="Trigger">
        <span className="one-line-value" data-testid="run-trigger">
          {triggerLabel(run)}
        </span>
      </Descriptions.Item>
      <Descriptions.Item label="Attempt">{run.attempt ?? 1}</Descriptions.Item>
      <Descriptions.Item label="Worker">
        {run.worker_id ? (
          <OneLine text={run.worker_id}>
            <Link to={`/runs?worker=${encodeURIComponent(run.worker_id)}`} data-testid="run-worker">
              {run.worker_id}
            </Link>
          </OneLine>
        ) : (
          "—"
        )}
      </Descriptions.Item>
      <Descriptions.Item label="Queue">
        <span className="one-line-value mono" title={run.queue ?? "default"} data-testid="run-queue">
          {run.queue ?? "default"}
        </span>
      </Descriptions.Item>
      <Descriptions.Item label="Duration">
        <OneLine text={formatDuration(durationBetween(run.started_at, run.finished_at, now))} />
      </Descriptions.Item>
      <Descriptions.Item label="Scheduled for">
        <OneLine text={run.scheduled_for ? formatDateTime(run.scheduled_for) : "—"} />
      </Descriptions.Item>
      {run.not_before && (
        <Descriptions.Item label="Not before">
          <OneLine text={formatDateTime(run.not_before)} />
        </Descriptions.Item>
      )}
      {run.source_commit && (
        <Descriptions.Item label="Source commit">
          <OneLine text={run.source_commit} mono />
        </Descriptions.Item>
      )}
      {(run.lost_count ?? 0) > 0 && <Descriptions.Item label="Worker lost">{plural(run.lost_count ?? 0, "time")}</Descriptions.Item>}
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
