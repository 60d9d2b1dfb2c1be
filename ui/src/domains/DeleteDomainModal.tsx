/**
 * Delete a domain. One holding jobs takes everything in it along (force=true), so the confirmation
 * says so and wants the domain's name typed, as mature products do for irreversible deletes.
 */
import { Alert, Input, Modal, Typography } from "antd";
import { useEffect, useState } from "react";
import type { Domain } from "../api/types";
import { ErrorAlert } from "../common/ErrorAlert";
import { testId } from "../common/testId";
import { useDeleteDomain } from "../hooks/useDomains";
import { deletePlan, isConfirmed } from "./deletePlan";
import { plural } from "../common/plural";

export function DeleteDomainModal({ domain, onClose, onDeleted }: { domain: Domain | null; onClose: () => void; onDeleted?: (name: string) => void }) {
  const remove = useDeleteDomain();
  const [typed, setTyped] = useState("");
  const name = domain?.name ?? null;
  useEffect(() => {
    setTyped("");
    remove.reset();
  }, [name]); // eslint-disable-line react-hooks/exhaustive-deps

  if (!domain) return null;
  const plan = deletePlan(domain);
  const ready = isConfirmed(plan, typed);

  return (
    <Modal
      open
      title={`Delete domain ${domain.name}?`}
      okText={plan.force ? "Delete the domain and everything in it" : "Delete domain"}
      okButtonProps={{ danger: true, disabled: !ready, loading: remove.isPending, ...testId("delete-domain-confirm") }}
      onOk={() =>
        remove.mutate(
          { name: domain.name, force: plan.force },
          {
            onSuccess: (deleted) => {
              onDeleted?.(deleted);
              onClose();
            },
          },
        )
      }
      onCancel={onClose}
      destroyOnHidden
    >
      <div data-testid="delete-domain-dialog">
        {plan.force ? (
          <>
            <Alert
              type="error"
              showIcon
              message={`${domain.name} holds ${plural(domain.jobs, "job")}.`}
              description={`Deleting it deletes everything in it: its jobs with all their runs and logs (runs still going are cancelled), and its ${plural(domain.tokens, "token")}, revoked at once, so its workers stop. This cannot be undone.`}
              style={{ marginBottom: 16 }}
              data-testid="delete-domain-warning"
            />
            <Typography.Paragraph>
              Type <Typography.Text code>{domain.name}</Typography.Text> to confirm.
            </Typography.Paragraph>
            <Input
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              placeholder={domain.name}
              className="mono"
              autoComplete="off"
              aria-label="Domain name to confirm"
              data-testid="delete-domain-typed"
            />
          </>
        ) : (
          <Typography.Paragraph>
            The domain holds no jobs. Its {plural(domain.tokens, "token")} {domain.tokens === 1 ? "is" : "are"} revoked at once and its workers stop.
          </Typography.Paragraph>
        )}
        {remove.error !== null && (
          <div style={{ marginTop: 12 }}>
            <ErrorAlert error={remove.error} title="Could not delete the domain" />
          </div>
        )}
      </div>
    </Modal>
  );
}
