import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The scheduler serves dist/ at "/" (assets under /assets) and falls back to index.html for SPA routes.
const backend = process.env.HYDRA_DEV_BACKEND ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  plugins: [react()],
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": { target: backend, changeOrigin: false },
      "/healthz": { target: backend },
      "/readyz": { target: backend },
    },
  },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    chunkSizeWarningLimit: 2000,
  },
});
