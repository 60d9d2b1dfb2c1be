/** A paged run table for a filter (cursor paging: newest first). */
import { LeftOutlined, RightOutlined } from "@ant-design/icons";
import { Button, Space, Typography } from "antd";
import type { RunFilter } from "../api/queryKeys";
import { ErrorAlert } from "../common/ErrorAlert";
import { useEffect } from "react";
import { usePrefetchRuns, useRuns } from "../hooks/useRuns";
import { RunTable } from "./RunTable";
import { useCursorPages } from "./useCursorPages";

export function RunHistory({
  filter,
  hide,
  onShown,
}: {
  filter: RunFilter;
  hide?: Parameters<typeof RunTable>[0]["hide"];
  /** Called once rows (or the empty table) are on screen. */
  onShown?: () => void;
}) {
  const pages = useCursorPages(JSON.stringify(filter));
  const runs = useRuns(filter, pages.cursor);
  const nextCursor = runs.data?.next_cursor ?? null;
  usePrefetchRuns(filter, nextCursor);
  const shown = runs.data !== undefined;
  useEffect(() => {
    if (shown) onShown?.();
  }, [shown, onShown]);
  return (
    <>
      <ErrorAlert error={runs.error} title="Could not load runs" />
      <RunTable
        runs={runs.data?.items ?? []}
        loading={runs.isLoading}
        hide={hide}
        footer={() => (
          <Space>
            <Button size="small" icon={<LeftOutlined />} disabled={!pages.hasPrev} onClick={pages.prev} data-testid="runs-prev">
              Newer
            </Button>
            <Typography.Text type="secondary">Page {pages.page}</Typography.Text>
            <Button size="small" disabled={!nextCursor} onClick={() => nextCursor && pages.next(nextCursor)} data-testid="runs-next">
              Older <RightOutlined />
            </Button>
            {pages.hasPrev && (
              <Button size="small" type="link" onClick={pages.first}>
                Back to newest
              </Button>
            )}
          </Space>
        )}
      />
    </>
  );
}
