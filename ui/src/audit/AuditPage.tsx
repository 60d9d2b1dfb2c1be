/**
 * The audit log of the current domain: who did what, newest first, with "load more" paging;
 * objects by name where the UI knows them (the id in a tooltip and copyable), and filters over
 * the entries loaded so far.
 */
import { ReloadOutlined } from "@ant-design/icons";
import { Button, Select, Space, Table, Tag, Tooltip, Typography } from "antd";
import type { TableProps } from "antd";
import { useMemo, useState } from "react";
import { Link } from "react-router";
import type { AuditEntry } from "../api/types";
import { DEFAULT_DOMAIN } from "../auth/session";
import { useSession } from "../auth/useSession";
import { ErrorAlert } from "../common/ErrorAlert";
import { formatDateTime } from "../common/format";
import { PageTitle } from "../common/PageTitle";
import { plural } from "../common/plural";
import { TimeAgo } from "../common/TimeAgo";
import { useAudit } from "../hooks/useAudit";
import { choices, filterAudit, isFiltered, NO_FILTER, TIME_RANGES, type AuditFilter, type TimeRange } from "./auditFilter";
import { objectName, type NameIndex } from "./auditNames";
import { actorLook, detailsText } from "./auditText";
import { useAuditNames } from "./useAuditNames";

function AuditObject({ entry, names }: { entry: AuditEntry; names: NameIndex }) {
  const id = entry.object_id;
  const name = objectName(entry, names);
  return (
    <span data-testid="audit-object">
      <span className="muted">{entry.object_type}</span>{" "}
      {id &&
        (name ? (
          <>
            <Tooltip title={<span className="mono">{id}</span>}>
              {entry.object_type === "job" ? (
                <Link to={`/jobs/${id}`} data-testid="audit-object-name">
                  {name}
                </Link>
              ) : (
                <b data-testid="audit-object-name">{name}</b>
              )}
            </Tooltip>
            <Typography.Text copyable={{ text: id, tooltips: ["Copy the id", "Copied"] }} data-testid="audit-object-copy" />
          </>
        ) : (
          <Typography.Text className="mono" copyable={{ text: id }}>
            {id}
          </Typography.Text>
        ))}
    </span>
  );
}

function columns(names: NameIndex): TableProps<AuditEntry>["columns"] {
  return [
    {
      title: "Time",
      dataIndex: "at",
      width: 210,
      render: (at: string) => (
        <Space direction="vertical" size={0}>
          <span className="mono">{formatDateTime(at)}</span>
          <span className="muted">
            <TimeAgo iso={at} />
          </span>
        </Space>
      ),
    },
    {
      title: "Actor",
      dataIndex: "actor",
      width: 200,
      render: (actor: string) => {
        const look = actorLook(actor);
        return (
          <Tooltip title={look.hint}>
            <Tag color={look.color} className="mono" data-testid="audit-actor">
              {actor}
            </Tag>
          </Tooltip>
        );
      },
    },
    { title: "Action", dataIndex: "action", render: (a: string) => <span className="mono" data-testid="audit-action">{a}</span> },
    { title: "Object", key: "object", render: (_, e) => <AuditObject entry={e} names={names} /> },
  ];
}

function FilterSelect({ value, onChange, options, placeholder, testId }: { value: string | undefined; onChange: (v: string | undefined) => void; options: string[]; placeholder: string; testId: string }) {
  return (
    <Select<string>
      allowClear
      showSearch
      placeholder={placeholder}
      value={value}
      onChange={(v) => onChange(v)}
      options={options.map((o) => ({ value: o, label: o }))}
      style={{ minWidth: 170 }}
      popupMatchSelectWidth={false}
      data-testid={testId}
    />
  );
}

export function AuditPage() {
  const session = useSession();
  const audit = useAudit();
  const names = useAuditNames();
  const [filter, setFilter] = useState<AuditFilter>(NO_FILTER);
  const entries = useMemo(() => audit.data?.pages.flatMap((p) => p.items) ?? [], [audit.data]);
  const shown = filterAudit(entries, filter);
  const filtered = isFiltered(filter);
  const set = (change: Partial<AuditFilter>) => setFilter((f) => ({ ...f, ...change }));
  return (
    <div data-testid="audit-page">
      <PageTitle
        title="Audit log"
        sub={
          <>
            Every change made in <b className="mono">{session?.domain ?? DEFAULT_DOMAIN}</b>, newest first
          </>
        }
        extra={
          <Button icon={<ReloadOutlined />} onClick={() => void audit.refetch()} loading={audit.isRefetching} data-testid="audit-refresh">
            Refresh
          </Button>
        }
      />
      <Space direction="vertical" size={16} style={{ width: "100%" }}>
        <Space wrap data-testid="audit-filters">
          <FilterSelect placeholder="Actor" value={filter.actor} onChange={(actor) => set({ actor })} options={choices(entries, "actor")} testId="audit-filter-actor" />
          <FilterSelect placeholder="Action" value={filter.action} onChange={(action) => set({ action })} options={choices(entries, "action")} testId="audit-filter-action" />
          <FilterSelect
            placeholder="Object type"
            value={filter.objectType}
            onChange={(objectType) => set({ objectType })}
            options={choices(entries, "object_type")}
            testId="audit-filter-type"
          />
          <Select<TimeRange>
            value={filter.range}
            onChange={(range) => set({ range })}
            options={TIME_RANGES.map((r) => ({ value: r.value, label: r.label }))}
            style={{ minWidth: 150 }}
            data-testid="audit-filter-time"
          />
          {filtered && (
            <>
              <Typography.Text type="secondary" data-testid="audit-match-count">
                {shown.length} of {plural(entries.length, "loaded entry", "loaded entries")} match
                {audit.hasNextPage ? "; load more to search older ones" : ""}
              </Typography.Text>
              <Button type="link" onClick={() => setFilter(NO_FILTER)} data-testid="audit-clear-filters">
                Clear filters
              </Button>
            </>
          )}
        </Space>
        <ErrorAlert error={audit.error} title="Could not load the audit log" />
        <Table<AuditEntry>
          rowKey="id"
          size="small"
          loading={audit.isLoading}
          dataSource={shown}
          columns={columns(names)}
          pagination={false}
          expandable={{
            rowExpandable: (e) => Object.keys(e.details ?? {}).length > 0,
            expandedRowRender: (e) => <pre className="audit-details">{detailsText(e.details)}</pre>,
          }}
          locale={{ emptyText: filtered && entries.length > 0 ? "No loaded entry matches the filters." : "Nothing has been changed in this domain yet." }}
          data-testid="audit-table"
        />
        {audit.hasNextPage && (
          <div style={{ textAlign: "center" }}>
            <Button onClick={() => void audit.fetchNextPage()} loading={audit.isFetchingNextPage} data-testid="audit-more">
              Load more
            </Button>
          </div>
        )}
        {!audit.hasNextPage && entries.length > 0 && (
          <div className="muted" style={{ textAlign: "center" }} data-testid="audit-end">
            {plural(entries.length, "entry", "entries")}: the beginning of the log
          </div>
        )}
      </Space>
    </div>
  );
}
