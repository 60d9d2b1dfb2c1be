/** The job editor's form: the common JobSpec fields, with server errors shown at each field. */
import { MinusCircleOutlined, PlusOutlined } from "@ant-design/icons";
import { Button, Checkbox, Col, Divider, Form, Input, InputNumber, Radio, Row, Select, Space, Switch } from "antd";
import type { ReactNode } from "react";
import { cronToWords } from "../../cron/cronToWords";
import type { FormField, MappedErrors } from "./fieldErrors";
import { CATCHUPS, EXECUTOR_TYPES, OVERLAPS, type JobFormValues } from "./jobForm";
import { timeZones } from "./timezones";

interface Props {
  errors: MappedErrors;
  values: JobFormValues;
}

function useFieldStatus(errors: MappedErrors) {
  return (field: FormField, extra?: ReactNode) => {
    const messages = errors.fields[field];
    return messages && messages.length > 0
      ? { validateStatus: "error" as const, help: <span data-testid={`error-${field}`}>{messages.join("; ")}</span> }
      : { extra };
  };
}

const SCRIPT_PLACEHOLDER: Record<string, string> = {
  shell: "#!/bin/bash\nset -euo pipefail\necho \"hello from $HOSTNAME\"",
  python: "print('hello')",
  batch: "@echo off\necho hello",
};

export function JobFormFields({ errors, values }: Props) {
  const status = useFieldStatus(errors);
  const kind = values.scheduleKind;
  const cronWords = values.cron ? cronToWords(values.cron) : "";
  return (
    <>
      <Row gutter={16}>
        <Col xs={24} md={16}>
          <Form.Item label="Name" name="name" required {...status("name", "Unique in the domain; letters, digits, space and _ . : @ / -")}>
            <Input placeholder="nightly-report" data-testid="job-name" />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item label="Enabled" name="enabled" valuePropName="checked" {...status("enabled")}>
            <Switch data-testid="job-enabled" />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item label="Description" name="description" {...status("description")}>
        <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} placeholder="What it does, who owns it" />
      </Form.Item>

      <Divider orientation="left" plain>
        What to run
      </Divider>
      <Row gutter={16}>
        <Col xs={24} md={12}>
          <Form.Item label="Executor" name="executorType" {...status("executorType")}>
            <Radio.Group optionType="button" options={EXECUTOR_TYPES.map((t) => ({ value: t, label: t }))} />
          </Form.Item>
        </Col>
        {values.executorType === "python" && (
          <Col xs={24} md={12}>
            <Form.Item label="Interpreter" name="interpreter" {...status("interpreter", "Empty: the worker's own Python")}>
              <Input placeholder="/usr/bin/python3" className="mono" />
            </Form.Item>
          </Col>
        )}
      </Row>
      <Form.Item label="Script" name="script" required {...status("script", values.executorType === "batch" ? "Runs on Windows workers" : undefined)}>
        <Input.TextArea
          className="code-area"
          autoSize={{ minRows: 6, maxRows: 24 }}
          spellCheck={false}
          placeholder={SCRIPT_PLACEHOLDER[values.executorType]}
          data-testid="job-script"
        />
      </Form.Item>

      <Divider orientation="left" plain>
        Schedule
      </Divider>
      <Form.Item label="Trigger" name="scheduleKind" {...status("scheduleKind")}>
        <Radio.Group
          optionType="button"
          options={[
            { value: "none", label: "Manual only" },
            { value: "cron", label: "Cron" },
            { value: "interval", label: "Interval" },
            { value: "at", label: "Once" },
          ]}
          data-testid="schedule-kind"
        />
      </Form.Item>
      {kind === "cron" && (
        <Row gutter={16}>
          <Col xs={24} md={12}>
            <Form.Item label="Cron" name="cron" {...status("cron", cronWords ? <span data-testid="cron-words">{cronWords}</span> : "minute hour day month weekday")}>
              <Input className="mono" placeholder="0 2 * * *" data-testid="cron-input" />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <TimezoneField status={status("timezone", "Default UTC")} />
          </Col>
        </Row>
      )}
      {kind === "interval" && (
        <Form.Item label="Every (seconds)" name="intervalSeconds" {...status("intervalSeconds")}>
          <InputNumber min={1} style={{ width: 200 }} data-testid="interval-input" />
        </Form.Item>
      )}
      {kind === "at" && (
        <Row gutter={16}>
          <Col xs={24} md={12}>
            <Form.Item label="At" name="at" {...status("at", "Local to the timezone")}>
              <Input type="datetime-local" step={1} data-testid="at-input" />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <TimezoneField status={status("timezone", "Default UTC")} />
          </Col>
        </Row>
      )}

      <Divider orientation="left" plain>
        Environment and parameters
      </Divider>
      <Form.Item label="Environment" {...status("env", "Exactly these variables (plus HYDRA_* and a minimal base) reach the job")}>
        <Form.List name="env">
          {(fields, { add, remove }) => (
            <>
              {fields.map((field) => (
                <Space key={field.key} align="baseline" style={{ display: "flex" }}>
                  <Form.Item name={[field.name, "key"]} noStyle>
                    <Input placeholder="NAME" className="mono" style={{ width: 200 }} />
                  </Form.Item>
                  <Form.Item name={[field.name, "value"]} noStyle>
                    <Input placeholder="value" style={{ width: 280 }} />
                  </Form.Item>
                  <MinusCircleOutlined onClick={() => remove(field.name)} aria-label="Remove variable" />
                </Space>
              ))}
              <Button type="dashed" size="small" icon={<PlusOutlined />} onClick={() => add({ key: "", value: "" })} style={{ marginTop: 4 }}>
                Add variable
              </Button>
            </>
          )}
        </Form.List>
      </Form.Item>
      <Form.Item label="Parameters" {...status("params", "Asked for on “Run now”; reach the job as HYDRA_PARAM_<NAME>")}>
        <Form.List name="params">
          {(fields, { add, remove }) => (
            <>
              {fields.map((field) => (
                <Space key={field.key} align="baseline" wrap style={{ display: "flex" }}>
                  <Form.Item name={[field.name, "name"]} noStyle>
                    <Input placeholder="name" className="mono" style={{ width: 150 }} />
                  </Form.Item>
                  <Form.Item name={[field.name, "default"]} noStyle>
                    <Input placeholder="default" style={{ width: 150 }} />
                  </Form.Item>
                  <Form.Item name={[field.name, "description"]} noStyle>
                    <Input placeholder="description" style={{ width: 220 }} />
                  </Form.Item>
                  <Form.Item name={[field.name, "required"]} valuePropName="checked" noStyle>
                    <Checkbox>required</Checkbox>
                  </Form.Item>
                  <MinusCircleOutlined onClick={() => remove(field.name)} aria-label="Remove parameter" />
                </Space>
              ))}
              <Button
                type="dashed"
                size="small"
                icon={<PlusOutlined />}
                onClick={() => add({ name: "", default: "", description: "", required: false })}
                style={{ marginTop: 4 }}
              >
                Add parameter
              </Button>
            </>
          )}
        </Form.List>
      </Form.Item>

      <Divider orientation="left" plain>
        Limits, retries and placement
      </Divider>
      <Row gutter={16}>
        <Col xs={12} md={8}>
          <Form.Item label="Timeout (s)" name="timeoutSeconds" {...status("timeoutSeconds", "Empty: no limit")}>
            <InputNumber min={1} style={{ width: "100%" }} />
          </Form.Item>
        </Col>
        <Col xs={12} md={8}>
          <Form.Item label="Attempts" name="maxAttempts" {...status("maxAttempts", "1 = no retry")}>
            <InputNumber min={1} max={100} style={{ width: "100%" }} />
          </Form.Item>
        </Col>
        <Col xs={12} md={8}>
          <Form.Item label="Retry backoff (s)" name="backoffSeconds" {...status("backoffSeconds", "Default 10, doubling")}>
            <InputNumber min={0} style={{ width: "100%" }} />
          </Form.Item>
        </Col>
        <Col xs={12} md={8}>
          <Form.Item label="Max running" name="maxRunning" {...status("maxRunning", "Empty: any")}>
            <InputNumber min={1} style={{ width: "100%" }} />
          </Form.Item>
        </Col>
        <Col xs={12} md={8}>
          <Form.Item label="On overlap" name="overlap" {...status("overlap")}>
            <Select options={OVERLAPS.map((o) => ({ value: o, label: o.replace("_", " ") }))} />
          </Form.Item>
        </Col>
        <Col xs={12} md={8}>
          <Form.Item label="Catch-up" name="catchup" {...status("catchup", "After downtime")}>
            <Select options={CATCHUPS.map((c) => ({ value: c, label: c }))} />
          </Form.Item>
        </Col>
        <Col xs={12} md={8}>
          <Form.Item label="Queue" name="queue" {...status("queue")}>
            <Input className="mono" placeholder="default" />
          </Form.Item>
        </Col>
        <Col xs={24} md={16}>
          <Form.Item label="Tags" name="tags" {...status("tags")}>
            <Select mode="tags" placeholder="linux, nightly…" tokenSeparators={[",", " "]} open={false} suffixIcon={null} />
          </Form.Item>
        </Col>
      </Row>
    </>
  );
}

function TimezoneField({ status }: { status: object }) {
  return (
    <Form.Item label="Timezone" name="timezone" getValueProps={(v: unknown) => ({ value: v || undefined })} normalize={(v: unknown) => v ?? ""} {...status}>
      <Select
        showSearch
        allowClear
        placeholder="UTC"
        options={timeZones().map((z) => ({ value: z, label: z }))}
        data-testid="timezone-select"
      />
    </Form.Item>
  );
}
