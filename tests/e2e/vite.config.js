// One page, built once per SDK version: `SDK=sdk-1.15.0 vite build --outDir dist/sdk-1.15.0`.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const sdk = process.env.SDK || "sdk-2.0.0";

export default defineConfig({
  plugins: [react()],
  base: "./",
  resolve: { alias: [{ find: /^@langchain\/langgraph-sdk(.*)$/, replacement: `${sdk}$1` }] },
  build: { outDir: `dist/${sdk}`, emptyOutDir: true, minify: false },
  logLevel: "warn",
});
