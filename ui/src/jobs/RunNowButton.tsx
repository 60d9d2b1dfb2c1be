/** "Run now": straight away, or through a parameters form when the job declares params. */
import { CaretRightOutlined } from "@ant-design/icons";
import { App, Button, Form, Input, Modal, Tooltip } from "antd";
import { useState } from "react";
import { errorText } from "../api/errors";
import type { Job, Run } from "../api/types";
import { useCan } from "../auth/permissions";
import { useRunJob } from "../hooks/useJobs";

export function RunNowButton({
  job,
  onStarted,
  size,
  type = "default",
}: {
  job: Job;
  onStarted: (run: Run) => void;
  size?: "small" | "middle";
  type?: "primary" | "default";
}) {
  const { message } = App.useApp();
  const runJob = useRunJob();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<Record<string, string>>();
  const params = Object.entries(job.params ?? {});
  const may = useCan();

  const start = (values: Record<string, string>) =>
    runJob.mutate(
      { id: job.id, params: Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== "")) },
      {
        onSuccess: (run) => {
          setOpen(false);
          onStarted(run);
        },
        onError: (e) => void message.error(`Could not start ${job.name}: ${errorText(e)}`),
      },
    );

  const disabled = !job.enabled;
  if (!may("operator")) return null; // a viewer's token may not start runs
  return (
    <>
      <Tooltip title={disabled ? "The job is disabled" : params.length ? "Run with parameters…" : "Run now"}>
        <Button
          size={size}
          type={type}
          icon={<CaretRightOutlined />}
          disabled={disabled}
          loading={runJob.isPending && !open}
          onClick={() => (params.length ? setOpen(true) : start({}))}
          data-testid="run-now"
        >
          Run now
        </Button>
      </Tooltip>
      <Modal
        title={`Run ${job.name}`}
        open={open}
        okText="Run"
        confirmLoading={runJob.isPending}
        onOk={() => form.submit()}
        onCancel={() => setOpen(false)}
        destroyOnHidden
      >
        <Form
          form={form}
          layout="vertical"
          onFinish={start}
          initialValues={Object.fromEntries(params.map(([name, p]) => [name, p.default ?? ""]))}
          preserve={false}
        >
          {params.map(([name, p]) => (
            <Form.Item
              key={name}
              name={name}
              label={<span className="mono">{name}</span>}
              extra={p.description ?? undefined}
              rules={p.required ? [{ required: true, message: `${name} is required` }] : []}
            >
              <Input placeholder={p.default ?? ""} data-testid={`param-${name}`} />
            </Form.Item>
          ))}
          <div className="muted">Parameters reach the job as environment variables HYDRA_PARAM_&lt;NAME&gt;.</div>
        </Form>
      </Modal>
    </>
  );
}
