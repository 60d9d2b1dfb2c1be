/** Server-side checks while editing: debounced validation of the draft and the cron preview. */
import { useMemo } from "react";
import { ApiError } from "../../api/errors";
import { useDebouncedValue } from "../../common/useDebouncedValue";
import { useSchedulePreview, useValidateJob } from "../../hooks/useSchedule";
import { mapErrors, mergeErrors, NO_ERRORS, type MappedErrors } from "./fieldErrors";
import { specToForm, type SpecDraft } from "./jobForm";

const VALIDATE_DELAY_MS = 400;
const PREVIEW_DELAY_MS = 300;

export interface EditorChecks {
  errors: MappedErrors;
  valid: boolean | null;
  checking: boolean;
  fires: string[];
  firesLoading: boolean;
  timezone: string;
}

export function useEditorChecks(draft: SpecDraft, touched: boolean, saveError: unknown): EditorChecks {
  const values = specToForm(draft);
  const specJson = useMemo(() => JSON.stringify(draft), [draft]);
  const debouncedJson = useDebouncedValue(specJson, VALIDATE_DELAY_MS);
  const validation = useValidateJob(debouncedJson, touched);

  const isCron = values.scheduleKind === "cron";
  const cron = useDebouncedValue(values.cron, PREVIEW_DELAY_MS);
  const timezone = useDebouncedValue(values.timezone, PREVIEW_DELAY_MS);
  const preview = useSchedulePreview(cron, timezone, isCron);

  const kind = values.scheduleKind;
  const report = validation.data;
  let errors = touched && report && !report.valid ? mapErrors(report.errors ?? [], kind) : NO_ERRORS;
  if (isCron && preview.error instanceof ApiError && Array.isArray(preview.error.detail)) {
    // Preview and validation both judge the cron; show the message once.
    const previewErrors = mapErrors(preview.error.detail, kind);
    const known = new Set(errors.fields.cron ?? []);
    previewErrors.fields.cron = (previewErrors.fields.cron ?? []).filter((m) => !known.has(m) && !errors.fields.cron?.length);
    errors = mergeErrors(errors, { ...previewErrors, all: [] });
  }
  if (saveError instanceof ApiError && saveError.status === 422 && Array.isArray(saveError.detail)) {
    errors = mergeErrors(errors, mapErrors(saveError.detail, kind));
  }

  const fires = isCron ? (preview.data?.fires ?? []) : (report?.next_fires ?? []);
  return {
    errors,
    valid: touched && report ? report.valid && errors.all.length === 0 : null,
    checking: validation.isFetching || debouncedJson !== specJson,
    fires: touched || isCron ? fires : [],
    firesLoading: isCron ? preview.isFetching : validation.isFetching,
    timezone: values.timezone,
  };
}
