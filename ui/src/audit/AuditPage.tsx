/**
 * The audit log of the current domain: who did what, newest first, with "load more" paging;
 * objects by name where the UI knows them (the id in a tooltip and copyable), and filters the
 * server applies (actor, action, object type and id, time), so older entries are found too.
 */
import { ReloadOutlined } from "@ant-design/icons";
import { Button, Input, Select, Space, Table, Tag, Tooltip, Typography } from "antd";
import type { TableProps } from "antd";
import { useMemo, useRef, useState } from "react";
import { Link } from "react-router";
import type { AuditEntry } from "../api/types";
import { DEFAULT_DOMAIN } from "../auth/session";
import { useSession } from "../auth/useSession";
import { ErrorAlert } from "../common/ErrorAlert";
import { formatDateTime } from "../common/format";
import { PageTitle } from "../common/PageTitle";
import { plural } from "../common/plural";
import { TimeAgo } from "../common/TimeAgo";
import { useDebouncedValue } from "../common/useDebouncedValue";
import { useAudit } from "../hooks/useAudit";
import { auditQuery, choices, isFiltered, NO_FILTER, OBJECT_TYPES, TIME_RANGES, withRange, type AuditFilter, type TimeRange } from "./auditFilter";
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
  const [filter, setFilter] = useState<AuditFilter>(NO_FILTER);
  const objectId = useDebouncedValue(filter.objectId, 300); // not one query per key pressed
  const audit = useAudit(auditQuery({ ...filter, objectId }));
  const names = useAuditNames();
  const entries = useMemo(() => audit.data?.pages.flatMap((p) => p.items) ?? [], [audit.data]);
  // Every entry seen offers its values as choices, so narrowing one filter keeps the others'.
  const seen = useRef(new Map<string, AuditEntry>());
  for (const e of entries) seen.current.set(e.id, e);
  const known = [...seen.current.values()];
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
          <FilterSelect placeholder="Actor" value={filter.actor} onChange={(actor) => set({ actor })} options={choices(known, "actor", ["admin"])} testId="audit-filter-actor" />
          <FilterSelect placeholder="Action" value={filter.action} onChange={(action) => set({ action })} options={choices(known, "action")} testId="audit-filter-action" />
          <FilterSelect
            placeholder="Object type"
            value={filter.objectType}
            onChange={(objectType) => set({ objectType })}
            options={choices(known, "object_type", OBJECT_TYPES)}
            testId="audit-filter-type"
          />
          <Input
            allowClear
            placeholder="Object id"
            value={filter.objectId}
            onChange={(e) => set({ objectId: e.target.value || undefined })}
            style={{ width: 200 }}
            className="mono"
            data-testid="audit-filter-id"
          />
          <Select<TimeRange>
            value={filter.range}
            onChange={(range) => setFilter((f) => withRange(f, range))}
            options={TIME_RANGES.map((r) => ({ value: r.value, label: r.label }))}
            style={{ minWidth: 150 }}
            data-testid="audit-filter-time"
          />
          {filtered && (
            <>
              <Typography.Text type="secondary" data-testid="audit-match-count">
                {audit.isLoading ? "searching…" : `${plural(entries.length, "entry", "entries")}${audit.hasNextPage ? " so far" : ""} match`}
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
          dataSource={entries}
          columns={columns(names)}
          pagination={false}
          expandable={{
            rowExpandable: (e) => Object.keys(e.details ?? {}).length > 0,
            expandedRowRender: (e) => <pre className="audit-details">{detailsText(e.details)}</pre>,
          }}
          locale={{ emptyText: filtered ? "No entry matches the filters." : "Nothing has been changed in this domain yet." }}
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
            {plural(entries.length, "entry", "entries")}
            {filtered ? " match: the oldest is shown" : ": the beginning of the log"}
          </div>
        )}
      </Space>
    </div>
  );
}
