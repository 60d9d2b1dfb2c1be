/** The alerts of a job or a run: sent, failed, muted and suppressed ones, each with its channel. */
import { Card } from "antd";
import { ErrorAlert } from "../common/ErrorAlert";
import { useDeliveries } from "../hooks/useNotify";
import { DeliveryTable } from "./DeliveryTable";

export function AlertHistory({ jobId, runId }: { jobId?: string; runId?: string }) {
  const found = useDeliveries({ jobId, runId });
  return (
    <Card size="small" title="Alert history" data-testid="alert-history">
      <ErrorAlert error={found.error} title="Could not load the alerts" />
      <DeliveryTable items={found.data} loading={found.isLoading} show="job" />
    </Card>
  );
}
