/** A scriptable fetch for stream tests: each call gets the next queued response; streams are pushed by hand. */

export interface RecordedCall {
  url: string;
  headers: Record<string, string>;
  signal: AbortSignal | null;
}

export interface FakeStream {
  response: Response;
  push: (text: string) => void;
  close: () => void;
}

export function sseStream(status = 200): FakeStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  const encoder = new TextEncoder();
  let closed = false;
  return {
    response: new Response(body, { status, headers: { "Content-Type": "text/event-stream" } }),
    push: (text) => {
      try {
        if (!closed) controller.enqueue(encoder.encode(text));
      } catch {
        closed = true; // the reader cancelled the stream
      }
    },
    close: () => {
      try {
        if (!closed) controller.close();
      } catch {
        // already cancelled by the reader
      }
      closed = true;
    },
  };
}

export function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

type Responder = () => Response | Promise<Response>;

export class FakeFetch {
  readonly calls: RecordedCall[] = [];
  private readonly queue: Responder[] = [];

  /** Queue what the next call answers; a stream is returned so the test can push to it. */
  nextStream(): FakeStream {
    const stream = sseStream();
    this.queue.push(() => stream.response);
    return stream;
  }

  nextResponse(response: Response): void {
    this.queue.push(() => response);
  }

  nextNetworkError(): void {
    this.queue.push(() => Promise.reject(new TypeError("Failed to fetch")));
  }

  fetch = (input: string, init?: RequestInit): Promise<Response> => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const signal = init?.signal ?? null;
    this.calls.push({ url: input, headers, signal });
    const responder = this.queue.shift();
    if (!responder) return Promise.reject(new TypeError("no response queued"));
    return Promise.resolve(responder()).then((response) => {
      return response;
    });
  };
}
