// 流程设计 (issue 21): the BPMN modeler, validation, deployment, versions, visual diff and migration.
// Mounted under /workbench by router.ts.
import type { RouteRecordRaw } from "vue-router";

export const designerRoutes: RouteRecordRaw[] = [];
