// 流程运维 (issue 21): instance search, why an instance waits, retry / suspend / resume / terminate, the diagram
// with its tokens. Mounted under /workbench by router.ts.
import type { RouteRecordRaw } from "vue-router";

export const operatorRoutes: RouteRecordRaw[] = [];
