import { Alert, Card, Input, Typography } from "antd";

/** The full spec as JSON, editable; kept in sync with the form by useSpecDraft. */
export function JsonSpecEditor({ text, error, onChange }: { text: string; error: string | null; onChange: (text: string) => void }) {
  return (
    <Card size="small" title="JSON spec" extra={<Typography.Text type="secondary">every field, in sync with the form</Typography.Text>}>
      <Input.TextArea
        className="code-area"
        value={text}
        onChange={(e) => onChange(e.target.value)}
        autoSize={{ minRows: 14, maxRows: 40 }}
        spellCheck={false}
        status={error ? "error" : undefined}
        data-testid="spec-json"
        aria-label="Job spec as JSON"
      />
      {error && <Alert type="error" showIcon style={{ marginTop: 8 }} message={`Not valid JSON yet: ${error}`} data-testid="json-error" />}
    </Card>
  );
}
