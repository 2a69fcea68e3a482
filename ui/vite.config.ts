import { defineConfig } from "vitest/config";

// One build for both shells; `dist/` is embedded by coup-desktop (tauri.conf.json).
export default defineConfig({
  clearScreen: false,
  build: { target: "safari15", outDir: "dist", emptyOutDir: true, sourcemap: false },
  test: { environment: "happy-dom", include: ["src/**/*.test.ts"] },
});
