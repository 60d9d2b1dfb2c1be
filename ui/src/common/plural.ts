/** A count with its noun: "1 line", "2 lines", "1,234 lines" (one helper, so no "1 lines" anywhere). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}
