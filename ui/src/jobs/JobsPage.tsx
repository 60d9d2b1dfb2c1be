import { PlusOutlined, SearchOutlined } from "@ant-design/icons";
import { App, Button, Input, Segmented, Select, Space, Table, Tag, Tooltip } from "antd";
import type { TableProps } from "antd";
import { useMemo, useState } from "react";
import { Link, useNavigate } from "react-router";
import { RUN_STATUSES, type Job, type Run, type RunStatus } from "../api/types";
import { useCan } from "../auth/permissions";
import { ErrorAlert } from "../common/ErrorAlert";
import { PageTitle } from "../common/PageTitle";
import { StatusTag } from "../common/StatusTag";
import { statusLabel } from "../common/statusLook";
import { TimeAgo } from "../common/TimeAgo";
import { useDebouncedValue } from "../common/useDebouncedValue";
import { WaitingTag } from "../common/WaitingReason";
import { useJobs } from "../hooks/useJobs";
import { JobActions } from "./JobActions";
import { jobState, JobStateTag, type JobState } from "./JobStateTag";
import { RunNowButton } from "./RunNowButton";
import { scheduleWords } from "./scheduleText";

type StateFilter = "all" | JobState;

export function JobsPage() {
  const navigate = useNavigate();
  const may = useCan();
  const { notification } = App.useApp();
  const [search, setSearch] = useState("");
  const [state, setState] = useState<StateFilter>("all");
  const [lastStatus, setLastStatus] = useState<RunStatus | "never" | undefined>();
  const debounced = useDebouncedValue(search.trim(), 300);
  const jobs = useJobs(debounced);

  const all = useMemo(() => jobs.data?.pages.flatMap((p) => p.items) ?? [], [jobs.data]);
  const rows = all.filter(
    (j) =>
      (state === "all" || jobState(j) === state) &&
      (lastStatus === undefined || (lastStatus === "never" ? !j.last_run_status : j.last_run_status === lastStatus)),
  );

  const started = (run: Run) =>
    notification.success({
      message: `Started ${run.job_name}`,
      description: <Link to={`/runs/${run.id}`}>Open the run</Link>,
      duration: 4,
    });

  const columns: TableProps<Job>["columns"] = [
    {
      title: "Name",
      dataIndex: "name",
      sorter: (a, b) => a.name.localeCompare(b.name),
      render: (name: string, job) => (
        <div className="job-name-cell">
          <div className="one-line" title={name}>
            <Link to={`/jobs/${job.id}`} data-testid="job-link">
              <b>{name}</b>
            </Link>
          </div>
          {job.description && (
            <div className="job-desc one-line" title={job.description} data-testid="job-desc">
              {job.description}
            </div>
          )}
          {((job.tags ?? []).length > 0 || job.waiting_reason) && (
            <div>
              <WaitingTag reason={job.waiting_reason} />
              {(job.tags ?? []).map((t) => (
                <Tag key={t} bordered={false}>
                  {t}
                </Tag>
              ))}
            </div>
          )}
        </div>
      ),
    },
    {
      title: "Schedule",
      key: "schedule",
      ellipsis: { showTitle: false },
      render: (_, job) => (
        <Tooltip title={job.schedule?.cron ? <span className="mono">{job.schedule.cron}</span> : scheduleWords(job.schedule)}>
          <span>{scheduleWords(job.schedule)}</span>
        </Tooltip>
      ),
    },
    {
      title: "Next fire",
      dataIndex: "next_fire_at",
      width: 110,
      // Below 1200 px the table keeps what matters: name, last run, state and the actions.
      responsive: ["xl"],
      sorter: (a, b) => (a.next_fire_at ?? "9").localeCompare(b.next_fire_at ?? "9"),
      render: (t: string | null, job) => (job.paused || !job.enabled ? <span className="muted">—</span> : <TimeAgo iso={t} />),
    },
    {
      title: "Last run",
      key: "last",
      width: 170,
      render: (_, job) =>
        job.last_run_id ? (
          <Space size={4}>
            <Link to={`/runs/${job.last_run_id}`}>
              <StatusTag status={job.last_run_status} />
            </Link>
            <TimeAgo iso={job.last_run_at} />
          </Space>
        ) : (
          <span className="muted">never run</span>
        ),
    },
    { title: "State", key: "state", width: 90, render: (_, job) => <JobStateTag job={job} /> },
    {
      title: "Actions",
      key: "actions",
      width: 190,
      render: (_, job) => (
        <Space size={4}>
          <RunNowButton job={job} size="small" onStarted={started} />
          <JobActions job={job} />
        </Space>
      ),
    },
  ];

  return (
    <div data-testid="jobs-page">
      <PageTitle
        title="Jobs"
        extra={
          may("editor") && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => void navigate("/jobs/new")} data-testid="new-job">
              New job
            </Button>
          )
        }
      />
      <Space wrap style={{ marginBottom: 12 }}>
        <Input
          allowClear
          prefix={<SearchOutlined />}
          placeholder="Search jobs"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          style={{ width: 260 }}
          data-testid="job-search"
        />
        <Segmented<StateFilter>
          value={state}
          onChange={setState}
          options={[
            { label: "All", value: "all" },
            { label: "Active", value: "active" },
            { label: "Paused", value: "paused" },
            { label: "Disabled", value: "disabled" },
          ]}
        />
        <Select<RunStatus | "never">
          allowClear
          placeholder="Last run status"
          style={{ width: 170 }}
          value={lastStatus}
          onChange={(v) => setLastStatus(v)}
          options={[...RUN_STATUSES.map((s) => ({ value: s, label: statusLabel(s) })), { value: "never" as const, label: "never run" }]}
        />
      </Space>
      <ErrorAlert error={jobs.error} title="Could not load jobs" />
      <Table<Job>
        rowKey="id"
        size="middle"
        loading={jobs.isLoading}
        dataSource={rows}
        columns={columns}
        pagination={rows.length > 50 ? { pageSize: 50, showSizeChanger: true } : false}
        tableLayout="fixed"
        locale={{ emptyText: all.length === 0 && !debounced ? "No jobs yet: create one with “New job”." : "No job matches" }}
        footer={
          jobs.hasNextPage
            ? () => (
                <Button onClick={() => void jobs.fetchNextPage()} loading={jobs.isFetchingNextPage}>
                  Load more jobs
                </Button>
              )
            : undefined
        }
        data-testid="jobs-table"
      />
    </div>
  );
}
