import { useCallback, useState } from "react";
import { useSearchParams } from "react-router";
import type { RunFilter } from "../api/queryKeys";
import { PageTitle } from "../common/PageTitle";
import { RunFilters } from "./RunFilters";
import { filterFromParams, paramsFromFilter } from "./runFilterParams";
import { RunHistory } from "./RunHistory";

/**
 * The filters (three selects and a date range picker) cost about as much to build as the table's
 * rows: with no filter in the address, they are built once the first rows are on screen, in a
 * placeholder of their size (issue 19: first rows within 500 ms).
 */
export function RunsPage() {
  const [params, setParams] = useSearchParams();
  const filter = filterFromParams(params);
  const [filtersShown, setFiltersShown] = useState(() => Object.keys(filter).length > 0);
  const showFilters = useCallback(() => setFiltersShown(true), []);
  const change = (next: RunFilter) => setParams(paramsFromFilter(next), { replace: true });
  return (
    <div data-testid="runs-page">
      <PageTitle title="Runs" sub="Every run across jobs, newest first" />
      {filtersShown ? <RunFilters filter={filter} onChange={change} /> : <div className="run-filters-placeholder" />}
      <RunHistory filter={filter} onShown={showFilters} />
    </div>
  );
}
