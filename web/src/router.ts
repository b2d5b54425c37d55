// Routes mirror the manual: the portal's top navigation, then 个人中心's side menu; 工作台 for reviewers,
// operators and designers. Each page is its own chunk.
import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";

import { designerRoutes } from "./designer/routes";
import PortalLayout from "./layout/PortalLayout.vue";
import { operatorRoutes } from "./operator/routes";
import { reviewerRoutes } from "./workbench/routes";

const routes: RouteRecordRaw[] = [
  {
    path: "/",
    component: PortalLayout,
    children: [
      { path: "", name: "home", component: () => import("./portal/HomePage.vue"), meta: { title: "首页" } },
      {
        path: "notices",
        name: "notices",
        component: () => import("./portal/ArticleList.vue"),
        props: { kind: "notice" },
        meta: { title: "通知公告" },
      },
      {
        path: "policies",
        name: "policies",
        component: () => import("./portal/ArticleList.vue"),
        props: { kind: "policy" },
        meta: { title: "政策文件" },
      },
      {
        path: "publicity",
        name: "publicity",
        component: () => import("./portal/ArticleList.vue"),
        props: { kind: "publicity" },
        meta: { title: "评审公示" },
      },
      {
        path: "articles/:id",
        name: "article",
        component: () => import("./portal/ArticleDetail.vue"),
        props: true,
        meta: { title: "详情" },
      },
      {
        path: "certificate-check",
        name: "certificate-check",
        component: () => import("./portal/CertificateCheck.vue"),
        meta: { title: "证书查询" },
      },
      {
        path: "certificate-check/:token",
        name: "certificate-landing",
        component: () => import("./portal/CertificateCheck.vue"),
        props: true,
        meta: { title: "证书查询" },
      },
      {
        path: "committees",
        name: "committees",
        component: () => import("./portal/CommitteeDirectory.vue"),
        meta: { title: "评审委员会" },
      },
      {
        path: "centre",
        component: () => import("./applicant/CentreLayout.vue"),
        meta: { title: "个人中心" },
        children: [
          { path: "", redirect: { name: "my-applications" } },
          {
            path: "applications",
            name: "my-applications",
            component: () => import("./applicant/MyApplications.vue"),
            meta: { title: "我的申报" },
          },
          {
            path: "applications/:id",
            name: "application-editor",
            component: () => import("./applicant/ApplicationEditor.vue"),
            props: true,
            meta: { title: "继续申报" },
          },
          {
            path: "new",
            name: "new-application",
            component: () => import("./applicant/NewApplication.vue"),
            meta: { title: "新增申报" },
          },
          {
            path: "profile",
            name: "profile",
            component: () => import("./applicant/ProfilePage.vue"),
            meta: { title: "个人信息" },
          },
          {
            path: "certificates",
            name: "my-certificates",
            component: () => import("./applicant/MyCertificates.vue"),
            meta: { title: "我的证书" },
          },
          {
            path: "talent-stats",
            name: "talent-stats",
            component: () => import("./applicant/RecordPage.vue"),
            props: { kind: "talent_stats" },
            meta: { title: "专技人才统计" },
          },
          {
            path: "out-of-province",
            name: "out-of-province",
            component: () => import("./applicant/RecordPage.vue"),
            props: { kind: "out_of_province" },
            meta: { title: "外省职称确认" },
          },
          {
            path: "messages",
            name: "messages",
            component: () => import("./applicant/MyMessages.vue"),
            meta: { title: "我的消息" },
          },
        ],
      },
      {
        path: "workbench",
        component: () => import("./workbench/WorkbenchLayout.vue"),
        meta: { title: "工作台" },
        children: [...reviewerRoutes, ...operatorRoutes, ...designerRoutes],
      },
      { path: ":rest(.*)*", name: "not-found", component: () => import("./portal/NotFound.vue") },
    ],
  },
];

export const router = createRouter({ history: createWebHistory(), routes });

router.afterEach((to) => {
  const title = to.meta.title as string | undefined;
  document.title = title ? `${title} - 四川省职称评审系统` : "四川省职称评审系统";
});
