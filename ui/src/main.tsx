import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { App as AntApp, ConfigProvider } from "antd";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { ApiError } from "./api/errors";
import { App } from "./App";
import { sessionStore } from "./auth/session";
import { takeTokenFromUrl } from "./auth/loginUrl";
import { preloadRoute } from "./preloadRoute";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      refetchOnWindowFocus: true,
      // 4xx answers will not change by asking again.
      retry: (count, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
    },
  },
});

// Operators who ask their OS for less motion get none (and browser tests get stable popups).
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

// A login link's token replaces a different stored session.
const linkToken = takeTokenFromUrl();
if (linkToken && sessionStore.get()?.token !== linkToken) sessionStore.signOut();

preloadRoute(queryClient, window.location);

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");

createRoot(root).render(
  <StrictMode>
    <ConfigProvider theme={{ token: { colorPrimary: "#1668dc", borderRadius: 6, fontSize: 14, motion: !reducedMotion } }}>
      <AntApp>
        <QueryClientProvider client={queryClient}>
          <BrowserRouter>
            <App linkToken={linkToken} />
          </BrowserRouter>
        </QueryClientProvider>
      </AntApp>
    </ConfigProvider>
  </StrictMode>,
);
