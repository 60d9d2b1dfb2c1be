/** Create a domain, or edit its description. Server errors (409 name taken, 422) show at the field. */
import { Alert, Form, Input, Modal } from "antd";
import { useEffect } from "react";
import type { Domain } from "../api/types";
import { DOMAIN_RE } from "../auth/session";
import { testId } from "../common/testId";
import { formErrors, showFieldErrors } from "../common/formErrors";
import { useCreateDomain, useUpdateDomain } from "../hooks/useDomains";

interface Values {
  name: string;
  description?: string;
}

const FIELDS = ["name", "description"] as const;

export const DOMAIN_NAME_HELP = "Lowercase letters, digits, - and _; starts with a letter or digit; at most 64 characters.";

/** `editing`: the domain whose description is edited; null: create a new one. */
export function DomainFormModal({
  open,
  editing,
  onClose,
  onCreated,
}: {
  open: boolean;
  editing: Domain | null;
  onClose: () => void;
  onCreated?: (domain: Domain) => void;
}) {
  const [form] = Form.useForm<Values>();
  const create = useCreateDomain();
  const update = useUpdateDomain();
  const mutation = editing ? update : create;
  const errors = formErrors(mutation.error, FIELDS, "name");

  useEffect(() => {
    if (!open) return;
    create.reset();
    update.reset();
    form.resetFields();
    form.setFieldsValue({ name: editing?.name ?? "", description: editing?.description ?? "" });
    // Reset once per opening, not on every render of the mutations.
  }, [open, editing]); // eslint-disable-line react-hooks/exhaustive-deps

  const submit = (values: Values) => {
    const description = values.description?.trim() ? values.description.trim() : null;
    const done = {
      onError: (error: unknown) => showFieldErrors(form, FIELDS, formErrors(error, FIELDS, "name")),
    };
    if (editing) {
      update.mutate({ name: editing.name, description }, { ...done, onSuccess: onClose });
    } else {
      create.mutate(
        { name: values.name.trim(), description },
        {
          ...done,
          onSuccess: (domain) => {
            onCreated?.(domain);
            onClose();
          },
        },
      );
    }
  };

  return (
    <Modal
      open={open}
      title={editing ? `Edit domain ${editing.name}` : "New domain"}
      okText={editing ? "Save" : "Create domain"}
      okButtonProps={{ loading: mutation.isPending, ...testId("domain-form-submit") }}
      onOk={() => form.submit()}
      onCancel={onClose}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" onFinish={submit} requiredMark={false} data-testid="domain-form">
        <Form.Item
          name="name"
          label="Name"
          extra={editing ? "A domain's name cannot change." : DOMAIN_NAME_HELP}
          rules={editing ? [] : [{ required: true, message: "Give the domain a name" }, { pattern: DOMAIN_RE, message: DOMAIN_NAME_HELP }]}
        >
          <Input placeholder="payments" className="mono" disabled={Boolean(editing)} autoComplete="off" data-testid="domain-name" />
        </Form.Item>
        <Form.Item name="description" label="Description" rules={[{ max: 1000, message: "At most 1000 characters" }]}>
          <Input.TextArea placeholder="Who owns it, what runs there" autoSize={{ minRows: 2, maxRows: 5 }} data-testid="domain-description" />
        </Form.Item>
      </Form>
      {errors.general.length > 0 && <Alert type="error" showIcon message={errors.general.join("; ")} data-testid="domain-form-error" />}
    </Modal>
  );
}
