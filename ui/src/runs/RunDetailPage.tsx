import { Card, Col, Row, Skeleton, Space, Typography } from "antd";
import { useParams } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useState } from "react";
import { qk } from "../api/queryKeys";
import { FAILURE_STATUSES, isTerminal, type RunStatus } from "../api/types";
import { ErrorAlert } from "../common/ErrorAlert";
import { shortId } from "../common/format";
import { PageTitle } from "../common/PageTitle";
import { StatusTag } from "../common/StatusTag";
import { useRun } from "../hooks/useRuns";
import { LogViewer, type LogFocus } from "../logs/LogViewer";
import { useRunLog } from "../logs/useRunLog";
import { AnalyzeFailure } from "./AnalyzeFailure";
import { AlertHistory } from "../notify/AlertHistory";
import { AttemptChain } from "./AttemptChain";
import { ResourceUsage } from "./ResourceUsage";
import { RunActions } from "./RunActions";
import { RunFacts } from "./RunFacts";
import { RunTimeline } from "./RunTimeline";

/** The log stream's `end` means the run is over: if the cached run does not say so yet, refetch it. */
function useRefreshOnLogEnd(id: string, ended: boolean, status: RunStatus | undefined) {
  const client = useQueryClient();
  useEffect(() => {
    if (ended && status && !isTerminal(status)) void client.invalidateQueries({ queryKey: qk.run(id) });
  }, [client, id, ended, status]);
}

export function RunDetailPage() {
  const { id = "" } = useParams();
  // One component per run: going from run A to run B (retry, attempt links) must not carry A's
  // state over, such as the error of an Analyze failure asked on A.
  return <RunDetail key={id} id={id} />;
}

function RunDetail({ id }: { id: string }) {
  const run = useRun(id);
  const log = useRunLog(id);
  useRefreshOnLogEnd(id, log.end !== null, run.data?.status);
  const [focus, setFocus] = useState<LogFocus | null>(null);
  const jumpTo = useCallback((line: number) => setFocus((f) => ({ line, seq: (f?.seq ?? 0) + 1 })), []);

  if (run.error) return <ErrorAlert error={run.error} title="Could not load the run" />;
  if (!run.data) return <Skeleton active />;
  const r = run.data;
  const live = !isTerminal(r.status) && log.end === null;
  return (
    <div data-testid="run-detail">
      <PageTitle
        title={
          <Space>
            {r.job_name}
            <Typography.Text type="secondary" className="mono" style={{ fontSize: 16, whiteSpace: "nowrap" }}>
              run {shortId(r.id)}
            </Typography.Text>
            <StatusTag status={r.status} />
          </Space>
        }
        docTitle={`${r.job_name} run`}
        extra={<RunActions run={r} />}
      />
      <Row gutter={[16, 16]}>
        <Col span={24}>
          <Card size="small">
            <RunTimeline run={r} />
          </Card>
        </Col>
        <Col xs={24} xxl={16}>
          <RunFacts run={r} />
        </Col>
        <Col xs={24} xxl={8}>
          <Space direction="vertical" size={16} style={{ width: "100%" }}>
            <Card size="small" title="Resource usage">
              <ResourceUsage usage={r.resource_usage} />
            </Card>
            <Card size="small" title="Attempts">
              <AttemptChain run={r} />
            </Card>
          </Space>
        </Col>
        <Col span={24}>
          <AlertHistory runId={r.id} />
        </Col>
        {FAILURE_STATUSES.has(r.status) && (
          <Col span={24}>
            <AnalyzeFailure runId={r.id} onEvidence={jumpTo} />
          </Col>
        )}
        <Col span={24}>
          <Card
            size="small"
            title={live ? "Output (live)" : "Output"}
            extra={log.error ? <Typography.Text type="warning">{log.error}</Typography.Text> : null}
            styles={{ body: { padding: 0 } }}
          >
            <LogViewer
              buffer={log.buffer}
              version={log.version}
              live={live}
              fileName={`${r.job_name}-${r.id}.log`}
              emptyText={live ? "Waiting for output…" : "This run printed nothing."}
              truncated={log.end?.truncated ?? r.log_truncated}
              focus={focus}
            />
          </Card>
        </Col>
      </Row>
    </div>
  );
}
