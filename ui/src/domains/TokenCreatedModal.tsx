/**
 * The one time a token's secret is shown: copy it, with the command that starts a worker with it.
 * The secret lives only in the state of whoever opened this; closing drops it for good.
 */
import { Alert, Button, Modal, Typography } from "antd";

export interface ShownToken {
  domain: string;
  name: string;
  secret: string;
}

/** The worker command for a domain token (names and token chars need no shell quoting). */
export function workerCommand(token: ShownToken): string {
  return `API_TOKEN=${token.secret} WORKER_DOMAIN=${token.domain} hydra-jobs worker`;
}

export function TokenCreatedModal({ token, onClose }: { token: ShownToken | null; onClose: () => void }) {
  return (
    <Modal
      open={token !== null}
      title={token ? `Token “${token.name}” of ${token.domain}` : ""}
      onCancel={onClose}
      maskClosable={false}
      destroyOnHidden
      width={640}
      footer={
        <Button type="primary" onClick={onClose} data-testid="token-copied">
          I have copied it
        </Button>
      }
    >
      {token && (
        <div data-testid="token-created">
          <Alert
            type="warning"
            showIcon
            message="Copy the token now: you will not see it again."
            description="Hydra Jobs keeps only a hash of it. If it is lost, revoke it and create another."
            style={{ marginBottom: 16 }}
          />
          <Typography.Text strong>Token</Typography.Text>
          <Typography.Paragraph
            copyable={{ text: token.secret, tooltips: ["Copy the token", "Copied"] }}
            className="mono token-once"
            data-testid="new-token-secret"
          >
            {token.secret}
          </Typography.Paragraph>
          <Typography.Text strong>Start a worker for {token.domain} with it</Typography.Text>
          <Typography.Paragraph copyable={{ text: workerCommand(token) }} className="mono token-once" data-testid="worker-hint">
            {workerCommand(token)}
          </Typography.Paragraph>
          <Typography.Text type="secondary">
            The worker also needs <Typography.Text code>REDIS_URL</Typography.Text>, the Redis of the schedulers (distributed mode). The
            same token works for API calls: <Typography.Text code>Authorization: Bearer …</Typography.Text>, and signs in to this UI.
          </Typography.Text>
        </div>
      )}
    </Modal>
  );
}
