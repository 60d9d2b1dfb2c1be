import { useSearchParams } from "react-router";
import type { RunFilter } from "../api/queryKeys";
import { PageTitle } from "../common/PageTitle";
import { RunFilters } from "./RunFilters";
import { filterFromParams, paramsFromFilter } from "./runFilterParams";
import { RunHistory } from "./RunHistory";

export function RunsPage() {
  const [params, setParams] = useSearchParams();
  const filter = filterFromParams(params);
  const change = (next: RunFilter) => setParams(paramsFromFilter(next), { replace: true });
  return (
    <div data-testid="runs-page">
      <PageTitle title="Runs" sub="Every run across jobs, newest first" />
      <RunFilters filter={filter} onChange={change} />
      <RunHistory filter={filter} />
    </div>
  );
}
