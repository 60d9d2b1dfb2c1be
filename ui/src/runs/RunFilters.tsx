import { Button, DatePicker, Select, Space } from "antd";
import dayjs from "dayjs";
import { useMemo } from "react";
import type { RunFilter } from "../api/queryKeys";
import { RUN_STATUSES } from "../api/types";
import { statusLabel } from "../common/statusLook";
import { useJobs } from "../hooks/useJobs";
import { useWorkers } from "../hooks/useWorkers";

export function RunFilters({ filter, onChange }: { filter: RunFilter; onChange: (filter: RunFilter) => void }) {
  const jobs = useJobs("");
  const workers = useWorkers();
  const jobOptions = useMemo(
    () => (jobs.data?.pages.flatMap((p) => p.items) ?? []).map((j) => ({ value: j.id, label: j.name })).sort((a, b) => a.label.localeCompare(b.label)),
    [jobs.data],
  );
  const workerOptions = (workers.data?.items ?? []).map((w) => ({ value: w.id, label: `${w.name} (${w.id})` }));
  const set = (patch: Partial<RunFilter>) => {
    const next: RunFilter = { ...filter, ...patch };
    for (const key of Object.keys(next) as (keyof RunFilter)[]) {
      const v = next[key];
      if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) delete next[key];
    }
    onChange(next);
  };
  const empty = Object.keys(filter).length === 0;
  return (
    <Space wrap style={{ marginBottom: 12 }} data-testid="run-filters">
      <Select
        mode="multiple"
        allowClear
        placeholder="Status"
        style={{ minWidth: 220 }}
        value={filter.statuses ?? []}
        onChange={(statuses: string[]) => set({ statuses })}
        options={RUN_STATUSES.map((s) => ({ value: s, label: statusLabel(s) }))}
        data-testid="filter-status"
      />
      <Select
        allowClear
        showSearch
        optionFilterProp="label"
        placeholder="Job"
        style={{ width: 220 }}
        value={filter.jobId}
        onChange={(jobId?: string) => set({ jobId })}
        options={jobOptions}
        data-testid="filter-job"
      />
      <Select
        allowClear
        showSearch
        optionFilterProp="label"
        placeholder="Worker"
        style={{ width: 220 }}
        value={filter.workerId}
        onChange={(workerId?: string) => set({ workerId })}
        options={workerOptions}
      />
      <DatePicker.RangePicker
        showTime={{ format: "HH:mm" }}
        format="YYYY-MM-DD HH:mm"
        allowEmpty={[true, true]}
        value={[filter.since ? dayjs(filter.since) : null, filter.until ? dayjs(filter.until) : null]}
        onChange={(range) => set({ since: range?.[0]?.toISOString(), until: range?.[1]?.toISOString() })}
        presets={[
          { label: "Last hour", value: [dayjs().subtract(1, "hour"), dayjs()] },
          { label: "Last 24 hours", value: [dayjs().subtract(24, "hour"), dayjs()] },
          { label: "Last 7 days", value: [dayjs().subtract(7, "day"), dayjs()] },
        ]}
      />
      {!empty && <Button onClick={() => onChange({})}>Clear filters</Button>}
    </Space>
  );
}
