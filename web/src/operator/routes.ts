// 流程运维 (issue 21): instance search, why an instance waits, retry / suspend / resume / terminate, the diagram
// with its tokens. Mounted under /workbench by router.ts; each page its own chunk (bpmn-js one more, loaded by the
// detail page), so none of it reaches the portal's first page.
import type { RouteRecordRaw } from "vue-router";

export const operatorRoutes: RouteRecordRaw[] = [
  {
    path: "operator",
    name: "operator-instances",
    component: () => import("./InstanceSearch.vue"),
    meta: { title: "流程运维" },
  },
  {
    path: "operator/instances/:id",
    name: "operator-instance",
    component: () => import("./InstanceDetail.vue"),
    props: true,
    meta: { title: "流程实例详情" },
  },
];
