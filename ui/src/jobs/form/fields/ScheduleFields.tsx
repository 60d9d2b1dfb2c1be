import { Col, Form, Input, InputNumber, Radio, Row, Select } from "antd";
import { describeCron } from "../../../cron/cronToWords";
import type { JobFormValues } from "../jobForm";
import { timeZones } from "../timezones";
import type { FieldStatus } from "./fieldStatus";

function TimezoneField({ status }: { status: FieldStatus }) {
  return (
    <Form.Item
      label="Timezone"
      name="timezone"
      getValueProps={(v: unknown) => ({ value: v || undefined })}
      normalize={(v: unknown) => v ?? ""}
      {...status("timezone", "Default UTC")}
    >
      <Select showSearch allowClear placeholder="UTC" options={timeZones().map((z) => ({ value: z, label: z }))} data-testid="timezone-select" />
    </Form.Item>
  );
}

export function ScheduleFields({ status, values }: { status: FieldStatus; values: JobFormValues }) {
  const kind = values.scheduleKind;
  const words = values.cron ? describeCron(values.cron) : null;
  return (
    <>
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
            <Form.Item label="Cron" name="cron" {...status("cron", words ? <span data-testid="cron-words">{words}</span> : "minute hour day month weekday")}>
              <Input className="mono" placeholder="0 2 * * *" data-testid="cron-input" />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <TimezoneField status={status} />
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
            <TimezoneField status={status} />
          </Col>
        </Row>
      )}
    </>
  );
}
