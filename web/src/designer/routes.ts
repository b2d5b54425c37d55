// 流程设计 (issue 21): the BPMN modeler, validation, deployment, versions, visual diff and migration.
// Mounted under /workbench by router.ts. Each page is its own chunk: bpmn-js and dmn-js load only here.
import type { RouteRecordRaw } from "vue-router";

export const designerRoutes: RouteRecordRaw[] = [
  {
    path: "designer",
    name: "designer",
    component: () => import("./DesignerHome.vue"),
    meta: { title: "流程设计" },
  },
  {
    path: "designer/new",
    name: "designer-new",
    component: () => import("./ProcessDesigner.vue"),
    props: (route) => ({ processKey: String(route.query.key ?? ""), name: String(route.query.name ?? ""), isNew: true }),
    meta: { title: "新建流程" },
  },
  {
    path: "designer/:processKey/versions",
    name: "designer-versions",
    component: () => import("./VersionsPage.vue"),
    props: true,
    meta: { title: "版本与差异" },
  },
  {
    path: "designer/:processKey/migrate",
    name: "designer-migrate",
    component: () => import("./MigrationPage.vue"),
    props: true,
    meta: { title: "实例迁移" },
  },
  {
    path: "designer/:processKey/:version(\\d+)/dmn",
    name: "designer-dmn",
    component: () => import("./DecisionTablePage.vue"),
    props: (route) => ({ processKey: route.params.processKey, version: Number(route.params.version) }),
    meta: { title: "决策表" },
  },
  {
    path: "designer/:processKey/:version(\\d+)?",
    name: "designer-edit",
    component: () => import("./ProcessDesigner.vue"),
    props: (route) => ({
      processKey: route.params.processKey,
      version: route.params.version ? Number(route.params.version) : undefined,
    }),
    meta: { title: "流程设计" },
  },
];
