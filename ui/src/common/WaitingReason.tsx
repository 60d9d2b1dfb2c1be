/** Why runs wait (`waiting_reason` from the API, e.g. "no online worker in domain prod has
 * os=windows"): a warning on the job and run pages, a tag with the reason on hover in lists. */
import { ClockCircleOutlined } from "@ant-design/icons";
import { Alert, Tag, Tooltip } from "antd";

export function WaitingAlert({ reason, what }: { reason: string | null | undefined; what: string }) {
  if (!reason) return null;
  return (
    <Alert
      type="warning"
      showIcon
      icon={<ClockCircleOutlined />}
      message={`${what} wait: ${reason}`}
      description="They stay queued and start once such a worker is online (worker --tags, --queues)."
      style={{ marginBottom: 16 }}
      data-testid="waiting-reason"
    />
  );
}

export function WaitingTag({ reason }: { reason: string | null | undefined }) {
  if (!reason) return null;
  return (
    <Tooltip title={reason}>
      <Tag color="warning" icon={<ClockCircleOutlined />} data-testid="job-waiting">
        waits for a worker
      </Tag>
    </Tooltip>
  );
}
