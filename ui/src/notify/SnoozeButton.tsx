/** Mute a job's alerts for a while (they are recorded as muted), or end the snooze. */
import { BellOutlined, NotificationOutlined } from "@ant-design/icons";
import { App, Button, Dropdown, Tooltip } from "antd";
import dayjs from "dayjs";
import { errorText } from "../api/errors";
import { formatDateTime } from "../common/format";
import { useSnoozeJob, useSnoozes, useUnsnoozeJob } from "../hooks/useNotify";

const CHOICES = [
  { key: "1", label: "for 1 hour", hours: 1 },
  { key: "4", label: "for 4 hours", hours: 4 },
  { key: "24", label: "for 1 day", hours: 24 },
  { key: "168", label: "for 1 week", hours: 168 },
];

export function SnoozeButton({ jobId }: { jobId: string }) {
  const { message } = App.useApp();
  const snoozes = useSnoozes();
  const snooze = useSnoozeJob();
  const unsnooze = useUnsnoozeJob();
  const current = snoozes.data?.find((s) => s.job_id === jobId);
  const failed = (e: unknown) => void message.error(errorText(e));

  if (current) {
    return (
      <Tooltip title={`Alerts muted until ${formatDateTime(current.until)}${current.reason ? `: ${current.reason}` : ""}`}>
        <Button icon={<BellOutlined />} loading={unsnooze.isPending} onClick={() => unsnooze.mutate(jobId, { onError: failed })} data-testid="unsnooze">
          Snoozed until {formatDateTime(current.until)} · Unsnooze
        </Button>
      </Tooltip>
    );
  }
  return (
    <Dropdown
      trigger={["click"]}
      menu={{
        items: CHOICES.map(({ key, label }) => ({ key, label, "data-testid": `snooze-${key}` })),
        onClick: ({ key }) => {
          const hours = CHOICES.find((c) => c.key === key)?.hours ?? 1;
          snooze.mutate({ jobId, until: dayjs().add(hours, "hour").toISOString() }, { onError: failed });
        },
      }}
    >
      <Button icon={<NotificationOutlined />} loading={snooze.isPending} data-testid="snooze">
        Snooze alerts
      </Button>
    </Dropdown>
  );
}
