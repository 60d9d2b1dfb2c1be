import { Card, Col, Descriptions, Empty, Row, Skeleton, Space, Tag, Typography } from "antd";
import { Link, useNavigate, useParams } from "react-router";
import type { Job } from "../api/types";
import { RunDurationChart } from "../charts/RunDurationChart";
import { ErrorAlert } from "../common/ErrorAlert";
import { formatDateTime, formatDuration } from "../common/format";
import { PageTitle } from "../common/PageTitle";
import { StatusTag } from "../common/StatusTag";
import { TimeAgo } from "../common/TimeAgo";
import { useJob } from "../hooks/useJobs";
import { useRuns } from "../hooks/useRuns";
import { RunHistory } from "../runs/RunHistory";
import { jobToSpec } from "./form/jobForm";
import { DeleteButton, EditButton, PauseButton } from "./JobActions";
import { JobStateTag } from "./JobStateTag";
import { RecurringFailures } from "./RecurringFailures";
import { AlertHistory } from "../notify/AlertHistory";
import { SnoozeButton } from "../notify/SnoozeButton";
import { RunNowButton } from "./RunNowButton";
import { scheduleWords } from "./scheduleText";

const CHART_RUNS = 50;

function KeyValues({ values }: { values: Record<string, string> }) {
  const entries = Object.entries(values);
  if (entries.length === 0) return <span className="muted">none</span>;
  return (
    <Space wrap size={4}>
      {entries.map(([k, v]) => (
        <Tag key={k} className="mono">
          {k}={v}
        </Tag>
      ))}
    </Space>
  );
}

function JobFacts({ job }: { job: Job }) {
  const retries = job.retries;
  return (
    <Descriptions size="small" column={{ xs: 1, md: 2 }} bordered>
      <Descriptions.Item label="Schedule" span={2}>
        <Space direction="vertical" size={0}>
          <span data-testid="job-schedule">{scheduleWords(job.schedule)}</span>
          {job.schedule?.cron && <span className="mono muted">{job.schedule.cron}</span>}
        </Space>
      </Descriptions.Item>
      <Descriptions.Item label="Next fire">{job.paused || !job.enabled ? "— (not scheduled)" : <TimeAgo iso={job.next_fire_at} />}</Descriptions.Item>
      <Descriptions.Item label="Last run">
        {job.last_run_id ? (
          <Space size={4}>
            <Link to={`/runs/${job.last_run_id}`}>
              <StatusTag status={job.last_run_status} />
            </Link>
            <TimeAgo iso={job.last_run_at} />
          </Space>
        ) : (
          "never"
        )}
      </Descriptions.Item>
      <Descriptions.Item label="Executor">{job.executor.type}</Descriptions.Item>
      <Descriptions.Item label="Queue">
        <span className="mono">{job.queue ?? "default"}</span>
      </Descriptions.Item>
      <Descriptions.Item label="Timeout">{job.timeout_seconds ? formatDuration(job.timeout_seconds * 1000) : "none"}</Descriptions.Item>
      <Descriptions.Item label="Attempts">
        {retries?.max_attempts ?? 1}
        {(retries?.max_attempts ?? 1) > 1 && ` (backoff ${retries?.backoff_seconds ?? 10} s × ${retries?.backoff_factor ?? 2})`}
      </Descriptions.Item>
      <Descriptions.Item label="Concurrency">
        {job.concurrency?.max_running ?? "any"} running, on overlap: {job.concurrency?.overlap ?? "allow"}
      </Descriptions.Item>
      <Descriptions.Item label="Catch-up">{job.catchup ?? "none"}</Descriptions.Item>
      <Descriptions.Item label="Tags" span={2}>
        {(job.tags ?? []).length ? (job.tags ?? []).map((t) => <Tag key={t}>{t}</Tag>) : <span className="muted">none</span>}
      </Descriptions.Item>
      <Descriptions.Item label="Environment" span={2}>
        <KeyValues values={job.env ?? {}} />
      </Descriptions.Item>
      <Descriptions.Item label="Parameters" span={2}>
        <KeyValues values={Object.fromEntries(Object.entries(job.params ?? {}).map(([k, p]) => [k, p.default ?? (p.required ? "(required)" : "")]))} />
      </Descriptions.Item>
      <Descriptions.Item label="Created">{formatDateTime(job.created_at)}</Descriptions.Item>
      <Descriptions.Item label="Updated">{formatDateTime(job.updated_at)}</Descriptions.Item>
    </Descriptions>
  );
}

export function JobDetailPage() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const job = useJob(id);
  const recent = useRuns({ jobId: id, limit: CHART_RUNS });

  if (job.error) return <ErrorAlert error={job.error} title="Could not load the job" />;
  if (!job.data) return <Skeleton active />;
  const j = job.data;
  return (
    <div data-testid="job-detail">
      <PageTitle
        title={
          <Space>
            {j.name}
            <JobStateTag job={j} />
          </Space>
        }
        docTitle={j.name}
        sub={j.description ?? undefined}
        extra={
          <>
            <RunNowButton job={j} type="primary" onStarted={(run) => void navigate(`/runs/${run.id}`)} />
            <PauseButton job={j} />
            <SnoozeButton jobId={j.id} />
            <EditButton job={j} />
            <DeleteButton job={j} onDeleted={() => void navigate("/jobs")} />
          </>
        }
      />
      <Row gutter={[16, 16]}>
        <Col xs={24} xxl={12}>
          <Card size="small" title="Definition">
            <JobFacts job={j} />
          </Card>
        </Col>
        <Col xs={24} xxl={12}>
          <Card size="small" title={`Recent runs: duration and status (last ${CHART_RUNS})`}>
            {recent.data ? <RunDurationChart runs={recent.data.items} /> : <Skeleton active />}
          </Card>
          <Card size="small" title="Script" style={{ marginTop: 16 }}>
            <pre className="code-block" data-testid="job-script-view">
              {j.executor.script}
            </pre>
          </Card>
        </Col>
        <Col span={24}>
          <RecurringFailures jobId={id} />
          <Card size="small" title="Run history">
            <RunHistory filter={{ jobId: id }} hide={["job"]} />
          </Card>
        </Col>
        <Col span={24}>
          <AlertHistory jobId={id} />
        </Col>
        <Col span={24}>
          <Card size="small" title="Spec (JSON)">
            {j ? (
              <Typography.Paragraph copyable={{ text: JSON.stringify(jobToSpec(j), null, 2) }} style={{ marginBottom: 0 }}>
                <pre className="code-block">{JSON.stringify(jobToSpec(j), null, 2)}</pre>
              </Typography.Paragraph>
            ) : (
              <Empty />
            )}
          </Card>
        </Col>
      </Row>
    </div>
  );
}
