// 工作台 for reviewers: 我的待办, 任务详情 with the decision, 已办; 证书管理 for the authorities. Mounted under /workbench by router.ts.
import type { RouteRecordRaw } from "vue-router";

export const reviewerRoutes: RouteRecordRaw[] = [
  { path: "", redirect: "/workbench/tasks" },
  { path: "tasks", name: "tasks", component: () => import("./TaskInbox.vue"), meta: { title: "我的待办" } },
  {
    path: "tasks/:taskId",
    name: "task",
    component: () => import("./TaskDetail.vue"),
    props: true,
    meta: { title: "任务详情" },
  },
  { path: "done", name: "decided", component: () => import("./DecidedList.vue"), meta: { title: "已办" } },
  { path: "notices", name: "notices", component: () => import("./NoticeList.vue"), meta: { title: "公示" } },
  {
    path: "certificates",
    name: "certificate-admin",
    component: () => import("./CertificateAdmin.vue"),
    meta: { title: "证书管理" },
  },
];
