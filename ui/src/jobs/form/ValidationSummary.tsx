import { CheckCircleTwoTone } from "@ant-design/icons";
import { Alert } from "antd";

/** Server validation in a sentence: valid, or every error as "field: message". */
export function ValidationSummary({ valid, messages, checking }: { valid: boolean | null; messages: string[]; checking: boolean }) {
  if (valid === null) return null;
  if (valid && messages.length === 0) {
    return (
      <Alert
        type="success"
        showIcon
        icon={<CheckCircleTwoTone twoToneColor="#52c41a" />}
        message={checking ? "Checking…" : "The server accepts this spec"}
        data-testid="spec-valid"
      />
    );
  }
  return (
    <Alert
      type="warning"
      showIcon
      message="The server would reject this spec"
      description={
        <ul className="error-list" data-testid="spec-errors">
          {messages.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      }
    />
  );
}
