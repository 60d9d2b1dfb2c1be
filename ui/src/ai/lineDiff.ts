/** A line diff of two texts (longest common subsequence): what a suggested change would change. */

export type DiffKind = "same" | "added" | "removed";

export interface DiffLine {
  kind: DiffKind;
  text: string;
}

const MAX_CELLS = 4_000_000; // specs are small; beyond this, show the texts as removed and added

export function lineDiff(before: string, after: string): DiffLine[] {
  const a = before.split("\n");
  const b = after.split("\n");
  if (a.length * b.length > MAX_CELLS) {
    return [...a.map((text) => ({ kind: "removed" as const, text })), ...b.map((text) => ({ kind: "added" as const, text }))];
  }
  // lcs[i][j]: length of the longest common subsequence of a[i:] and b[j:].
  const width = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * width + j] = a[i] === b[j] ? (lcs[(i + 1) * width + j + 1] ?? 0) + 1 : Math.max(lcs[(i + 1) * width + j] ?? 0, lcs[i * width + j + 1] ?? 0);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] ?? "";
    const y = b[j] ?? "";
    if (x === y) {
      out.push({ kind: "same", text: x });
      i++;
      j++;
    } else if ((lcs[(i + 1) * width + j] ?? 0) >= (lcs[i * width + j + 1] ?? 0)) {
      out.push({ kind: "removed", text: x });
      i++;
    } else {
      out.push({ kind: "added", text: y });
      j++;
    }
  }
  for (; i < a.length; i++) out.push({ kind: "removed", text: a[i] ?? "" });
  for (; j < b.length; j++) out.push({ kind: "added", text: b[j] ?? "" });
  return out;
}

/** Whether the diff changes anything. */
export function hasChanges(diff: readonly DiffLine[]): boolean {
  return diff.some((l) => l.kind !== "same");
}
