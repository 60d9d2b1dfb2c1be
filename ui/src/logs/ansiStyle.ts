/** SGR state to a React style object (colours computed from numbers only). */
import type { CSSProperties } from "react";
import type { AnsiColor, SgrState } from "./ansi";

// A palette readable on the log viewer's dark background (VS Code's dark terminal colours).
const BASE16 = [
  "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
  "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
];
const CUBE = [0, 95, 135, 175, 215, 255];

export const LOG_FG = "#d4d4d4";
export const LOG_BG = "#0f1419";

export function colorCss(color: AnsiColor): string {
  if (color.kind === "rgb") return `rgb(${color.r}, ${color.g}, ${color.b})`;
  const n = color.n;
  if (n < 16) return BASE16[n] ?? LOG_FG;
  if (n < 232) {
    const i = n - 16;
    const r = CUBE[Math.floor(i / 36) % 6] ?? 0;
    const g = CUBE[Math.floor(i / 6) % 6] ?? 0;
    const b = CUBE[i % 6] ?? 0;
    return `rgb(${r}, ${g}, ${b})`;
  }
  const level = 8 + (n - 232) * 10;
  return `rgb(${level}, ${level}, ${level})`;
}

export function sgrStyle(state: SgrState): CSSProperties | undefined {
  let fg = state.fg;
  // Bold with a basic colour shows the bright variant, as terminals do.
  if (state.bold && fg?.kind === "index" && fg.n < 8) fg = { kind: "index", n: fg.n + 8 };
  let color = fg ? colorCss(fg) : undefined;
  let background = state.bg ? colorCss(state.bg) : undefined;
  if (state.inverse) {
    [color, background] = [background ?? LOG_BG, color ?? LOG_FG];
  }
  const style: CSSProperties = {};
  if (color) style.color = color;
  if (background) style.backgroundColor = background;
  if (state.bold) style.fontWeight = 700;
  if (state.dim) style.opacity = 0.7;
  if (state.italic) style.fontStyle = "italic";
  const lines = [state.underline ? "underline" : "", state.strike ? "line-through" : ""].filter(Boolean);
  if (lines.length) style.textDecoration = lines.join(" ");
  return Object.keys(style).length ? style : undefined;
}
