/**
 * Windows batch (cmd.exe) highlighting for the script editor: @codemirror/legacy-modes has shell
 * and PowerShell but no batch mode. A small stream parser: `REM` and `::` comments, `:labels`,
 * `%VAR%` / `%1` / `%%i` / `%~dp0` / `!VAR!` variables, "strings", cmd's keywords and built-in
 * commands (case-insensitive), numbers, and the redirection and chaining operators.
 */
import { StreamLanguage, type StreamParser } from "@codemirror/language";

const KEYWORDS = new Set([
  "if", "else", "for", "in", "do", "goto", "call", "exit", "not", "exist", "defined", "errorlevel",
  "equ", "neq", "lss", "leq", "gtr", "geq", "setlocal", "endlocal", "enabledelayedexpansion",
  "disabledelayedexpansion", "enableextensions", "disableextensions", "shift", "pause", "nul",
]);

const BUILTINS = new Set([
  "echo", "set", "cd", "chdir", "pushd", "popd", "copy", "xcopy", "robocopy", "move", "del", "erase",
  "ren", "rename", "md", "mkdir", "rd", "rmdir", "type", "dir", "cls", "title", "start", "timeout",
  "findstr", "find", "where", "choice", "color", "path", "ver", "vol", "assoc", "attrib", "more",
  "sort", "tasklist", "taskkill", "powershell", "cmd",
]);

interface BatchState {
  /** Nothing but blanks (and `@`) so far on this line: a label or a REM may start here. */
  lineStart: boolean;
  /** The previous token was a command word such as `echo`: the rest is its text. */
  afterEcho: boolean;
  /** The previous token was `goto` (a label follows) or `call` (a `:label` may follow). */
  jump: "goto" | "call" | null;
}

/** `%VAR%`, `%1`, `%*`, `%~dp0`, `%%i`, `%VAR:a=b%`; the `%` is already read. */
function percentVariable(stream: Parameters<StreamParser<BatchState>["token"]>[0]): boolean {
  if (stream.match(/^%[~a-zA-Z]*[a-zA-Z]/)) return true; // %%i, %%~nxi
  if (stream.match(/^~[a-zA-Z]*[0-9]/)) return true; // %~dp0
  if (stream.match(/^[0-9*]/)) return true; // %1, %*
  return Boolean(stream.match(/^[^%\s]+%/)); // %PATH%, %VAR:~0,4%
}

export const batchParser: StreamParser<BatchState> = {
  name: "batch",
  startState: () => ({ lineStart: true, afterEcho: false, jump: null }),
  token(stream, state) {
    if (stream.sol()) {
      state.lineStart = true;
      state.afterEcho = false;
      state.jump = null;
    }
    if (stream.eatSpace()) return null;
    const jump = state.jump;
    state.jump = null;
    if (jump && stream.match(jump === "goto" ? /^:?[^\s&|<>()%!"]+/ : /^:[^\s&|<>()%!"]+/)) return "labelName";
    if (state.lineStart) {
      if (stream.eat("@")) return "meta";
      if (stream.match(/^(rem\b|::)/i)) {
        stream.skipToEnd();
        return "comment";
      }
      if (stream.match(/^:[^\s:]+/)) {
        stream.skipToEnd();
        state.lineStart = false;
        return "labelName";
      }
    }
    state.lineStart = false;
    if (stream.match(/^%%?~?[a-zA-Z0-9*]/, false) || stream.match(/^%[^%\s]+%/, false)) {
      stream.next();
      return percentVariable(stream) ? "variableName.special" : "operator";
    }
    const ch = stream.next();
    if (ch === undefined) return null;
    if (ch === "!" && stream.match(/^[a-zA-Z_][\w:~,=-]*!/)) return "variableName.special";
    if (ch === '"') {
      while (!stream.eol()) {
        const next = stream.next();
        if (next === '"') break;
        if (next === "%") percentVariable(stream);
      }
      return "string";
    }
    if (/[&|<>()]/.test(ch)) {
      stream.eatWhile(/[&|<>]/);
      // A new command follows `&`, `&&`, `||`, `|` and `(`.
      if (/[&|(]/.test(ch)) {
        state.lineStart = true;
        state.afterEcho = false;
      }
      return "operator";
    }
    if (/[0-9]/.test(ch)) {
      stream.eatWhile(/[0-9]/);
      if (!/[\w.]/.test(stream.peek() ?? "")) return "number";
    }
    stream.eatWhile(/[^\s%!"&|<>()]/);
    const word = stream.current().toLowerCase();
    if (state.afterEcho) return null;
    if (word === "echo" || word === "title") state.afterEcho = true;
    if (word === "goto" || word === "call") state.jump = word;
    if (KEYWORDS.has(word)) return "keyword";
    if (BUILTINS.has(word)) return "variableName.standard";
    return null;
  },
  languageData: { commentTokens: { line: "REM" } },
};

export const batch = StreamLanguage.define(batchParser);
