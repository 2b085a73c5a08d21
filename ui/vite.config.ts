import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

// `vite build --mode mock` swaps the Tauri API for canned answers (ui/mock/), for looking at the
// views in a plain browser (scripts/screens.py takes the screenshots).
export default defineConfig(({ mode }) => ({
  clearScreen: false,
  build: { target: "es2021", outDir: mode === "mock" ? "dist-mock" : "dist", emptyOutDir: true },
  resolve: mode === "mock" ? {
    alias: {
      "@tauri-apps/api/core": fileURLToPath(new URL("./mock/core.ts", import.meta.url)),
      "@tauri-apps/api/event": fileURLToPath(new URL("./mock/event.ts", import.meta.url)),
    },
  } : {},
}));
