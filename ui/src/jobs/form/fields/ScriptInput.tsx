/**
 * The script field's input: the CodeMirror editor, loaded on demand (its chunk is fetched when a
 * job form first opens, never for the first page). Until it is there, a plain text area with the
 * same value stands in, so nothing typed meanwhile is lost.
 */
import { Input } from "antd";
import { lazy, Suspense } from "react";
import type { ExecutorType } from "../../../api/types";

const CodeEditor = lazy(() => import("../code/CodeEditor"));

interface Props {
  value?: string;
  onChange?: (value: string) => void;
  id?: string;
  "aria-describedby"?: string;
  "aria-required"?: boolean | "true" | "false";
  /** A server error is shown at the field. */
  invalid: boolean;
  language: ExecutorType;
  placeholder: string;
}

export function ScriptInput({ value = "", onChange, id, invalid, language, placeholder, ...aria }: Props) {
  const required = aria["aria-required"] === true || aria["aria-required"] === "true";
  return (
    <Suspense
      fallback={
        <Input.TextArea
          id={id}
          className="code-area"
          value={value}
          onChange={(e) => onChange?.(e.target.value)}
          autoSize={{ minRows: 6, maxRows: 24 }}
          spellCheck={false}
          placeholder={placeholder}
          aria-label="Script"
          aria-describedby={aria["aria-describedby"]}
          aria-invalid={invalid}
          aria-required={required}
          data-testid="job-script-loading"
        />
      }
    >
      <CodeEditor
        value={value}
        onChange={onChange}
        id={id}
        language={language}
        placeholder={placeholder}
        ariaLabel="Script"
        testId="job-script"
        invalid={invalid}
        describedBy={aria["aria-describedby"]}
        required={required}
      />
    </Suspense>
  );
}
