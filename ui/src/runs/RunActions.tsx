import { RedoOutlined, StopOutlined } from "@ant-design/icons";
import { App, Button, Popconfirm } from "antd";
import { useNavigate } from "react-router";
import { errorText } from "../api/errors";
import { isTerminal, type Run } from "../api/types";
import { useCan } from "../auth/permissions";
import { useCancelRun, useRetryRun } from "../hooks/useRuns";

export function RunActions({ run }: { run: Run }) {
  const { message } = App.useApp();
  const navigate = useNavigate();
  const cancel = useCancelRun();
  const retry = useRetryRun();
  const done = isTerminal(run.status);
  const may = useCan();
  if (!may("operator")) return null; // a viewer's token may not cancel or retry
  return (
    <>
      {!done && (
        <Popconfirm
          title="Cancel this run?"
          description="The whole process tree gets TERM, then KILL after the grace period."
          okText="Cancel run"
          cancelText="Keep running"
          okButtonProps={{ danger: true, loading: cancel.isPending }}
          onConfirm={() =>
            cancel.mutateAsync(run.id).then(
              () => void message.info("Cancel requested"),
              (e: unknown) => void message.error(errorText(e)),
            )
          }
        >
          <Button danger icon={<StopOutlined />} disabled={run.cancel_requested} data-testid="cancel-run">
            {run.cancel_requested ? "Cancelling…" : "Cancel"}
          </Button>
        </Popconfirm>
      )}
      {done && (
        <Button
          icon={<RedoOutlined />}
          loading={retry.isPending}
          onClick={() =>
            retry.mutate(run.id, {
              onSuccess: (next) => void navigate(`/runs/${next.id}`),
              onError: (e) => void message.error(errorText(e)),
            })
          }
          data-testid="retry-run"
        >
          Retry
        </Button>
      )}
    </>
  );
}
