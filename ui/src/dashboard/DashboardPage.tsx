import { Card, Col, Row, Skeleton } from "antd";
import { ErrorAlert } from "../common/ErrorAlert";
import { PageTitle } from "../common/PageTitle";
import { StackedBarChart } from "../charts/StackedBarChart";
import { useStats } from "../hooks/useStats";
import { RunTable } from "../runs/RunTable";
import { toBuckets } from "./hourBuckets";
import { JobStatTable } from "./JobStatTable";
import { StatCards } from "./StatCards";
import { StatusCounts } from "./StatusCounts";

export function DashboardPage() {
  const stats = useStats(24);
  return (
    <div data-testid="dashboard">
      <PageTitle title="Dashboard" sub="The last 24 hours, updated live" />
      <ErrorAlert error={stats.error} title="Could not load the dashboard" />
      {!stats.data ? (
        <Skeleton active />
      ) : (
        <Row gutter={[16, 16]}>
          <Col span={24}>
            <StatCards stats={stats.data} />
          </Col>
          <Col span={24}>
            <Card title="Runs per hour" size="small" extra={<StatusCounts counts={stats.data.counts} />}>
              <StackedBarChart buckets={toBuckets(stats.data.hourly)} />
            </Card>
          </Col>
          <Col xs={24} xl={12}>
            <Card title="Slowest jobs" size="small">
              <JobStatTable rows={stats.data.slowest_jobs} kind="slowest" />
            </Card>
          </Col>
          <Col xs={24} xl={12}>
            <Card title="Most failing jobs" size="small">
              <JobStatTable rows={stats.data.failing_jobs} kind="failing" />
            </Card>
          </Col>
          <Col span={24}>
            <Card title="Recent failures" size="small">
              <RunTable runs={stats.data.recent_failures} hide={["trigger"]} />
            </Card>
          </Col>
        </Row>
      )}
    </div>
  );
}
