import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors";
import { watchPolls } from "./pollReachability";

describe("watchPolls", () => {
  it("reports each fetched query: an answer is reachable, no answer or a gateway's is not", async () => {
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const seen: boolean[] = [];
    const stop = watchPolls(client.getQueryCache(), (ok) => seen.push(ok));
    const fail = (error: unknown) => client.query({ queryKey: [String(error)], queryFn: () => Promise.reject(error as Error) }).catch(() => undefined);

    await client.query({ queryKey: ["ok"], queryFn: () => Promise.resolve(1) });
    await fail(new ApiError(0, null));
    await fail(new ApiError(502, null));
    await fail(new ApiError(404, null));
    await fail(new DOMException("aborted", "AbortError"));
    client.setQueryData(["written"], 2); // from a stream event: says nothing
    expect(seen).toEqual([true, false, false, true]);

    stop();
    await fail(new ApiError(0, null));
    expect(seen).toHaveLength(4);
  });
});
