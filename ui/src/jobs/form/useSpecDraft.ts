/**
 * One draft, two editors: form edits rewrite the JSON text; JSON edits (when they parse) rewrite
 * the form. The draft object is the single source of truth.
 */
import type { FormInstance } from "antd";
import { useCallback, useRef, useState } from "react";
import { applyForm, parseSpecText, specText, specToForm, type JobFormValues, type SpecDraft } from "./jobForm";

export interface SpecDraftState {
  draft: SpecDraft;
  jsonText: string;
  jsonError: string | null;
  /** The user changed something (validation messages show from then on). */
  touched: boolean;
  fromForm: (values: Partial<JobFormValues>) => void;
  fromJson: (text: string) => void;
  /** Replace everything (a generated draft, a loaded job). */
  load: (spec: SpecDraft) => void;
}

export function useSpecDraft(initial: SpecDraft, form: FormInstance<JobFormValues>, changed = false): SpecDraftState {
  const [draft, setDraft] = useState<SpecDraft>(initial);
  const [jsonText, setJsonText] = useState(() => specText(initial));
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [touched, setTouched] = useState(changed);
  const draftRef = useRef(draft);
  draftRef.current = draft;

  const fromForm = useCallback((values: Partial<JobFormValues>) => {
    // The form may report only mounted fields: fill the rest from the current draft.
    const full: JobFormValues = { ...specToForm(draftRef.current), ...values };
    const next = applyForm(draftRef.current, full);
    setDraft(next);
    setJsonText(specText(next));
    setJsonError(null);
    setTouched(true);
  }, []);

  const fromJson = useCallback(
    (text: string) => {
      setJsonText(text);
      setTouched(true);
      const parsed = parseSpecText(text);
      if ("error" in parsed) {
        setJsonError(parsed.error);
        return;
      }
      setJsonError(null);
      setDraft(parsed.spec);
      form.setFieldsValue(specToForm(parsed.spec));
    },
    [form],
  );

  const load = useCallback(
    (spec: SpecDraft) => {
      setDraft(spec);
      setJsonText(specText(spec));
      setJsonError(null);
      setTouched(true);
      form.setFieldsValue(specToForm(spec));
    },
    [form],
  );

  return { draft, jsonText, jsonError, touched, fromForm, fromJson, load };
}
