/**
 * The script editor's look, taken from the app's antd theme tokens (colours, radius, font), so it
 * follows the app: a dark algorithm gives a dark editor. Syntax tokens carry lezer's stable
 * `tok-*` classes (classHighlighter); their colours come from one palette per scheme.
 */
import { EditorView } from "@codemirror/view";
import type { GlobalToken } from "antd";

interface Palette {
  keyword: string;
  string: string;
  comment: string;
  variable: string;
  special: string;
  number: string;
  meta: string;
  label: string;
  definition: string;
}

// GitHub's light and dark syntax colours: readable on antd's light and dark container backgrounds.
const LIGHT: Palette = {
  keyword: "#cf222e",
  string: "#0a3069",
  comment: "#6e7781",
  variable: "#8250df",
  special: "#953800",
  number: "#0550ae",
  meta: "#116329",
  label: "#0550ae",
  definition: "#953800",
};

const DARK: Palette = {
  keyword: "#ff7b72",
  string: "#a5d6ff",
  comment: "#8b949e",
  variable: "#d2a8ff",
  special: "#ffa657",
  number: "#79c0ff",
  meta: "#7ee787",
  label: "#79c0ff",
  definition: "#ffa657",
};

/** Whether a CSS colour (#rgb, #rrggbb or rgb()/rgba()) is dark. */
export function isDarkColor(color: string): boolean {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim())?.[1];
  const rgb = hex
    ? [0, 1, 2].map((i) => (hex.length === 3 ? parseInt(hex.charAt(i).repeat(2), 16) : parseInt(hex.slice(2 * i, 2 * i + 2), 16)))
    : (/rgba?\(([^)]+)\)/.exec(color)?.[1] ?? "").split(",").slice(0, 3).map((v) => Number.parseFloat(v));
  if (rgb.length !== 3 || rgb.some((v) => Number.isNaN(v))) return false;
  const [r = 0, g = 0, b = 0] = rgb;
  return (0.299 * r + 0.587 * g + 0.114 * b) / 255 < 0.5;
}

export function editorTheme(token: GlobalToken, minLines: number) {
  const dark = isDarkColor(token.colorBgContainer);
  const p = dark ? DARK : LIGHT;
  return EditorView.theme(
    {
      "&": {
        color: token.colorText,
        backgroundColor: token.colorBgContainer,
        border: `1px solid ${token.colorBorder}`,
        borderRadius: `${token.borderRadius}px`,
        fontSize: "12.5px",
      },
      "&.cm-focused": {
        outline: "none",
        borderColor: token.colorPrimary,
        boxShadow: `0 0 0 2px ${token.controlOutline}`,
      },
      ".cm-scroller": { fontFamily: "var(--mono)", lineHeight: "1.5", maxHeight: "36em", overflow: "auto" },
      ".cm-content": { minHeight: `${minLines * 1.5}em`, caretColor: token.colorText },
      ".cm-cursor, .cm-dropCursor": { borderLeftColor: token.colorText },
      ".cm-gutters": {
        backgroundColor: token.colorFillQuaternary,
        color: token.colorTextTertiary,
        borderRight: `1px solid ${token.colorBorderSecondary}`,
        borderRadius: `${token.borderRadius}px 0 0 ${token.borderRadius}px`,
      },
      ".cm-activeLine": { backgroundColor: token.colorFillQuaternary },
      ".cm-activeLineGutter": { backgroundColor: token.colorFillTertiary, color: token.colorText },
      "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground": {
        backgroundColor: token.controlItemBgActive,
      },
      ".cm-placeholder": { color: token.colorTextPlaceholder },
      ".cm-matchingBracket": { backgroundColor: token.controlItemBgActiveHover, outline: `1px solid ${token.colorBorder}` },
      ".tok-keyword": { color: p.keyword },
      ".tok-string, .tok-string2": { color: p.string },
      ".tok-comment": { color: p.comment, fontStyle: "italic" },
      ".tok-variableName": { color: p.variable },
      ".tok-variableName2, .tok-definition": { color: p.special },
      ".tok-number, .tok-bool, .tok-atom": { color: p.number },
      ".tok-meta": { color: p.meta },
      ".tok-labelName": { color: p.label, fontWeight: "600" },
      ".tok-className, .tok-typeName, .tok-macroName": { color: p.definition },
      ".tok-operator": { color: token.colorTextSecondary },
    },
    { dark },
  );
}
