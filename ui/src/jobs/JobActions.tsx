/** Pause/resume, edit and delete for one job; each shown only to a role that may use it. */
import { DeleteOutlined, EditOutlined, PauseOutlined, PlayCircleOutlined } from "@ant-design/icons";
import { App, Button, Popconfirm, Space, Tooltip } from "antd";
import { useNavigate } from "react-router";
import { errorText } from "../api/errors";
import type { Job } from "../api/types";
import { useCan } from "../auth/permissions";
import { useDeleteJob, usePauseJob } from "../hooks/useJobs";

/** Pausing only stops a schedule: a manual-only job has nothing to pause (one paused earlier can be resumed). */
export function canPause(job: Job): boolean {
  return Boolean(job.schedule) || (job.paused ?? false);
}

export function PauseButton({ job, size }: { job: Job; size?: "small" | "middle" }) {
  const { message } = App.useApp();
  const pause = usePauseJob();
  const paused = job.paused ?? false;
  const may = useCan();
  if (!canPause(job) || !may("operator")) return null;
  return (
    <Tooltip title={paused ? "Resume the schedule" : "Pause the schedule (manual runs still work)"}>
      <Button
        size={size}
        icon={paused ? <PlayCircleOutlined /> : <PauseOutlined />}
        loading={pause.isPending}
        onClick={() =>
          pause.mutate({ id: job.id, paused: !paused }, { onError: (e) => void message.error(errorText(e)) })
        }
        aria-label={paused ? "Resume" : "Pause"}
        data-testid={paused ? "resume-job" : "pause-job"}
      >
        {size === "small" ? null : paused ? "Resume" : "Pause"}
      </Button>
    </Tooltip>
  );
}

export function DeleteButton({ job, size, onDeleted }: { job: Job; size?: "small" | "middle"; onDeleted?: () => void }) {
  const { message } = App.useApp();
  const del = useDeleteJob();
  const may = useCan();
  if (!may("editor")) return null;
  return (
    <Popconfirm
      title={`Delete ${job.name}?`}
      description="Its schedule stops. Run history stays."
      okText="Delete"
      okButtonProps={{ danger: true, loading: del.isPending }}
      onConfirm={() =>
        del.mutateAsync(job.id).then(
          () => {
            void message.success(`Deleted ${job.name}`);
            onDeleted?.();
          },
          (e: unknown) => void message.error(errorText(e)),
        )
      }
    >
      <Button size={size} danger icon={<DeleteOutlined />} data-testid="delete-job">
        {size === "small" ? null : "Delete"}
      </Button>
    </Popconfirm>
  );
}

export function EditButton({ job, size }: { job: Job; size?: "small" | "middle" }) {
  const navigate = useNavigate();
  const may = useCan();
  if (!may("editor")) return null;
  return (
    <Button size={size} icon={<EditOutlined />} onClick={() => void navigate(`/jobs/${job.id}/edit`)} data-testid="edit-job">
      {size === "small" ? null : "Edit"}
    </Button>
  );
}

export function JobActions({ job }: { job: Job }) {
  return (
    <Space size={4}>
      <PauseButton job={job} size="small" />
      <EditButton job={job} size="small" />
      <DeleteButton job={job} size="small" />
    </Space>
  );
}
