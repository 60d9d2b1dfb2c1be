/**
 * The script editor: CodeMirror 6 with line numbers, undo history, bracket matching and syntax
 * highlighting for the executor's language (shell, Python, Windows batch). A controlled input for
 * an antd Form.Item (`value`/`onChange`); a value set from outside (the JSON view, a generated
 * draft) replaces the text. Tab indents; Escape then Tab (or Ctrl-M) moves focus on, so the
 * editor is no keyboard trap. Loaded on demand (ScriptField): not in the first page's bundle.
 */
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { bracketMatching, indentOnInput, StreamLanguage, syntaxHighlighting } from "@codemirror/language";
import { shell } from "@codemirror/legacy-modes/mode/shell";
import { Annotation, Compartment, EditorState, type Extension } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
  placeholder as placeholderText,
} from "@codemirror/view";
import { classHighlighter } from "@lezer/highlight";
import { theme } from "antd";
import { useEffect, useRef } from "react";
import type { ExecutorType } from "../../../api/types";
import { batch } from "./batchLanguage";
import { editorTheme } from "./editorTheme";

const shellLanguage = StreamLanguage.define(shell);

/** Marks a change that came in through `value`: it is not reported back through onChange. */
const fromOutside = Annotation.define<boolean>();

function languageFor(type: ExecutorType): Extension {
  switch (type) {
    case "python":
      return python();
    case "batch":
      return batch;
    default:
      return shellLanguage;
  }
}

export interface CodeEditorProps {
  value?: string;
  onChange?: (value: string) => void;
  language: ExecutorType;
  placeholder?: string;
  /** Form.Item's id (its label points at it). */
  id?: string;
  ariaLabel: string;
  testId?: string;
  /** Marks the content invalid for assistive technology (a field error is shown). */
  invalid?: boolean;
  /** Ids of the help and hint texts under the field (Form.Item's aria-describedby). */
  describedBy?: string;
  required?: boolean;
  minLines?: number;
}

export default function CodeEditor({ value = "", onChange, language, placeholder = "", id, ariaLabel, testId, invalid = false, describedBy, required = false, minLines = 6 }: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const compartments = useRef({ language: new Compartment(), theme: new Compartment(), attrs: new Compartment(), placeholder: new Compartment() });
  const { token } = theme.useToken();

  const attributes = (): Extension =>
    EditorView.contentAttributes.of({
      "aria-label": ariaLabel,
      "aria-multiline": "true",
      "aria-invalid": invalid ? "true" : "false",
      ...(required ? { "aria-required": "true" } : {}),
      ...(describedBy ? { "aria-describedby": describedBy } : {}),
      ...(id ? { id } : {}),
      ...(testId ? { "data-testid": testId } : {}),
    });

  // Made once; later prop changes are applied through the compartments below.
  useEffect(() => {
    const parent = host.current;
    if (!parent) return;
    const c = compartments.current;
    const editor = new EditorView({
      parent,
      state: EditorState.create({
        doc: value,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightActiveLine(),
          history(),
          drawSelection(),
          indentOnInput(),
          bracketMatching(),
          syntaxHighlighting(classHighlighter),
          keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
          EditorView.lineWrapping,
          c.language.of(languageFor(language)),
          c.theme.of(editorTheme(token, minLines)),
          c.attrs.of(attributes()),
          c.placeholder.of(placeholderText(placeholder)),
          EditorView.updateListener.of((update) => {
            const typed = update.transactions.some((tr) => tr.docChanged && !tr.annotation(fromOutside));
            if (typed) onChangeRef.current?.(update.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- created once; see the effects below
  }, []);

  // A value from outside (JSON view, loaded draft): replace the text, keep the history.
  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const current = editor.state.doc.toString();
    if (value !== current) editor.dispatch({ changes: { from: 0, to: current.length, insert: value }, annotations: fromOutside.of(true) });
  }, [value]);

  useEffect(() => {
    view.current?.dispatch({ effects: compartments.current.language.reconfigure(languageFor(language)) });
  }, [language]);

  useEffect(() => {
    view.current?.dispatch({ effects: compartments.current.theme.reconfigure(editorTheme(token, minLines)) });
  }, [token, minLines]);

  useEffect(() => {
    const c = compartments.current;
    view.current?.dispatch({ effects: [c.attrs.reconfigure(attributes()), c.placeholder.reconfigure(placeholderText(placeholder))] });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- attributes() reads exactly these
  }, [ariaLabel, id, testId, invalid, describedBy, required, placeholder]);

  return <div ref={host} className="code-editor" data-language={language} />;
}
