import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { QueryClient, QueryObserver } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { rereadAfterWrite } from "./reread";

/** A store whose reads can be held: a read answers with the value it saw when it began. */
function heldStore() {
  let value = "before the write";
  const held: Array<() => void> = [];
  let reads = 0;
  return {
    write: (next: string) => void (value = next),
    read: () => {
      reads += 1;
      const seen = value;
      return new Promise<string>((resolve) => held.push(() => resolve(seen)));
    },
    releaseAll: () => held.splice(0).forEach((release) => release()),
    reads: () => reads,
  };
}

async function firstReadRacingAWrite(after: (client: QueryClient) => Promise<void>) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const store = heldStore();
  const observer = new QueryObserver(client, { queryKey: ["things"], queryFn: store.read });
  const unsubscribe = observer.subscribe(() => {});
  await Promise.resolve();
  expect(store.reads()).toBe(1); // the page's first read is in flight...
  store.write("after the write"); // ...when a write lands
  const settled = after(client);
  for (let round = 0; round < 5; round++) {
    store.releaseAll();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await settled;
  store.releaseAll();
  await new Promise((resolve) => setTimeout(resolve, 0));
  const data = client.getQueryData(["things"]);
  unsubscribe();
  client.clear();
  return data;
}

describe("rereadAfterWrite", () => {
  it("reads again when the write lands during a first read (a plain invalidation keeps the old answer)", async () => {
    const plain = await firstReadRacingAWrite((client) => client.invalidateQueries({ queryKey: ["things"] }));
    expect(plain).toBe("before the write"); // TanStack hands the first read's answer to the invalidation
    const reread = await firstReadRacingAWrite((client) => rereadAfterWrite(client, ["things"]));
    expect(reread).toBe("after the write");
  });

  it("is what every mutation hook uses to refresh what it changed", () => {
    const dir = join(__dirname, "..", "hooks");
    const direct = readdirSync(dir)
      .filter((name) => name.endsWith(".ts") && !name.includes(".test."))
      .filter((name) => readFileSync(join(dir, name), "utf8").includes("invalidateQueries("));
    expect(direct).toEqual([]);
  });
});
