import { MinusCircleOutlined, PlusOutlined } from "@ant-design/icons";
import { Button, Checkbox, Form, Input, Space } from "antd";
import type { FieldStatus } from "./fieldStatus";

function EnvList() {
  return (
    <Form.List name="env">
      {(fields, { add, remove }) => (
        <>
          {fields.map((field) => (
            <Space key={field.key} align="baseline" style={{ display: "flex" }}>
              <Form.Item name={[field.name, "key"]} noStyle>
                <Input placeholder="NAME" className="mono" style={{ width: 200 }} aria-label="Variable name" />
              </Form.Item>
              <Form.Item name={[field.name, "value"]} noStyle>
                <Input placeholder="value" style={{ width: 280 }} aria-label="Variable value" />
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
  );
}

function ParamList() {
  return (
    <Form.List name="params">
      {(fields, { add, remove }) => (
        <>
          {fields.map((field) => (
            <Space key={field.key} align="baseline" wrap style={{ display: "flex" }}>
              <Form.Item name={[field.name, "name"]} noStyle>
                <Input placeholder="name" className="mono" style={{ width: 150 }} aria-label="Parameter name" />
              </Form.Item>
              <Form.Item name={[field.name, "default"]} noStyle>
                <Input placeholder="default" style={{ width: 150 }} aria-label="Parameter default" />
              </Form.Item>
              <Form.Item name={[field.name, "description"]} noStyle>
                <Input placeholder="description" style={{ width: 220 }} aria-label="Parameter description" />
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
  );
}

export function EnvParamsFields({ status }: { status: FieldStatus }) {
  return (
    <>
      <Form.Item label="Environment" {...status("env", "Exactly these variables (plus HYDRA_* and a minimal base) reach the job")}>
        <EnvList />
      </Form.Item>
      <Form.Item label="Parameters" {...status("params", "Asked for on “Run now”; reach the job as HYDRA_PARAM_<NAME>")}>
        <ParamList />
      </Form.Item>
    </>
  );
}
