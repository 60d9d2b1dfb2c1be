/** The job editor: form and JSON side by side, validated by the server as you type. */
import { SaveOutlined } from "@ant-design/icons";
import { Alert, Button, Card, Col, Form, Row, Space } from "antd";
import { useEffect, type ReactNode } from "react";
import { ApiError, errorText } from "../../api/errors";
import type { JobSpec } from "../../api/types";
import { PageTitle } from "../../common/PageTitle";
import { AiGenerator } from "./AiGenerator";
import { JobFormFields } from "./JobFormFields";
import { specToForm, type JobFormValues, type SpecDraft } from "./jobForm";
import { JsonSpecEditor } from "./JsonSpecEditor";
import { SchedulePreview } from "./SchedulePreview";
import { useEditorChecks } from "./useEditorChecks";
import { useSpecDraft } from "./useSpecDraft";
import { ValidationSummary } from "./ValidationSummary";

interface Props {
  title: string;
  initial: SpecDraft;
  saveLabel: string;
  saving: boolean;
  saveError: unknown;
  onSave: (spec: JobSpec) => void;
  onCancel: () => void;
  onDirty: () => void;
  /** The AI generator (new jobs only: a draft replaces everything). */
  generator?: boolean;
  /** Shown above the form (e.g. a suggested change being reviewed). */
  notice?: ReactNode;
  /** `initial` differs from what is saved: validate it from the start. */
  changed?: boolean;
}

export function JobEditor({ title, initial, saveLabel, saving, saveError, onSave, onCancel, onDirty, generator = false, notice, changed = false }: Props) {
  const [form] = Form.useForm<JobFormValues>();
  const spec = useSpecDraft(initial, form, changed);
  const checks = useEditorChecks(spec.draft, spec.touched, saveError);
  const values = specToForm(spec.draft);

  useEffect(() => {
    if (spec.touched) onDirty();
  }, [spec.draft, spec.touched, onDirty]);

  // The server is the validator: the draft goes out as the JSON the user sees.
  const save = () => onSave(spec.draft as unknown as JobSpec);
  const saveProblem = saveError && !(saveError instanceof ApiError && saveError.status === 422) ? errorText(saveError) : null;

  return (
    <div data-testid="job-editor">
      <PageTitle
        title={title}
        extra={
          <>
            <Button onClick={onCancel}>Cancel</Button>
            <Button type="primary" icon={<SaveOutlined />} loading={saving} disabled={spec.jsonError !== null} onClick={save} data-testid="save-job">
              {saveLabel}
            </Button>
          </>
        }
      />
      {saveProblem && <Alert type="error" showIcon message="Not saved" description={saveProblem} style={{ marginBottom: 16 }} data-testid="save-error" />}
      {notice}
      {checks.errors.general.length > 0 && (
        <Alert
          type="error"
          showIcon
          style={{ marginBottom: 16 }}
          message="Fix these first"
          description={
            <ul className="error-list">
              {checks.errors.general.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          }
        />
      )}
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={14}>
          <Space direction="vertical" size={16} style={{ width: "100%" }}>
            {generator && <AiGenerator onDraft={spec.load} />}
            <Card size="small" title="Job">
              <Form<JobFormValues>
                form={form}
                name="job"
                layout="vertical"
                initialValues={specToForm(initial)}
                onValuesChange={(_, all) => spec.fromForm(all)}
              >
                <JobFormFields errors={checks.errors} values={values} />
              </Form>
            </Card>
          </Space>
        </Col>
        <Col xs={24} xl={10}>
          <Space direction="vertical" size={16} style={{ width: "100%" }} className="editor-side">
            <ValidationSummary valid={checks.valid} messages={checks.errors.all} checking={checks.checking} />
            {values.scheduleKind !== "none" && (
              <SchedulePreview
                fires={checks.fires}
                timezone={checks.timezone}
                loading={checks.firesLoading}
                note={values.scheduleKind === "cron" ? "Type a cron expression to see when it fires" : undefined}
              />
            )}
            <JsonSpecEditor text={spec.jsonText} error={spec.jsonError} onChange={spec.fromJson} />
          </Space>
        </Col>
      </Row>
    </div>
  );
}

