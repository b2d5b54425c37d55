/// <reference types="vitest/config" />
import { fileURLToPath, URL } from "node:url";

import vue from "@vitejs/plugin-vue";
import AutoImport from "unplugin-auto-import/vite";
import { ElementPlusResolver } from "unplugin-vue-components/resolvers";
import Components from "unplugin-vue-components/vite";
import { defineConfig } from "vite";

// Element Plus components are imported on demand (only what a page uses reaches its chunk); `make run`'s gateway
// serves dist/ at /, and `npm run dev` proxies /api to it.
export default defineConfig({
  plugins: [
    vue(),
    AutoImport({ resolvers: [ElementPlusResolver()], dts: false }),
    Components({ resolvers: [ElementPlusResolver()], dts: false }),
  ],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 900 },
  // Element Plus ships its styles as CSS imports: let Vite transform it in tests too
  test: { environment: "jsdom", include: ["tests/**/*.test.ts"], server: { deps: { inline: ["element-plus"] } } },
});
