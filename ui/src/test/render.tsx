/** Renders a component the way main.tsx mounts the app: antd App, a query client, a router. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import { App as AntApp, ConfigProvider } from "antd";
import type { ReactElement } from "react";
import { MemoryRouter } from "react-router";

export function testQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } } });
}

export function renderApp(ui: ReactElement, { client = testQueryClient(), path = "/", state }: { client?: QueryClient; path?: string; state?: unknown } = {}) {
  const view = render(
    <ConfigProvider theme={{ token: { motion: false } }}>
      <AntApp>
        <QueryClientProvider client={client}>
          <MemoryRouter initialEntries={[state === undefined ? path : { pathname: path, state }]}>{ui}</MemoryRouter>
        </QueryClientProvider>
      </AntApp>
    </ConfigProvider>,
  );
  return { ...view, client };
}
