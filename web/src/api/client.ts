// The one API client: typed by src/api/schema.d.ts, which openapi-typescript generates from ../openapi.json (the
// merged document of the four services; `make test` fails when it is stale). Never edit the types by hand.
import createClient, { type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

/** RFC 9457 problem details as every service answers an error: a stable code, the field, a Chinese reason. */
export type Problem = Schemas["Problem"];

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });

/** A session that ended (expired, logged out elsewhere) sends the user to log in and back to the same page. */
export function loginUrl(returnTo: string): string {
  return `/api/identity/login?return_to=${encodeURIComponent(returnTo)}`;
}

const sessionGuard: Middleware = {
  onResponse({ response }) {
    if (response.status === 401 && typeof window !== "undefined" && window.location.pathname.startsWith("/centre")) {
      window.location.assign(loginUrl(window.location.pathname + window.location.search));
    }
    return response;
  },
};
api.use(sessionGuard);

export function isProblem(value: unknown): value is Problem {
  return typeof value === "object" && value !== null && "code" in value && "detail" in value && "status" in value;
}

/**
 * The problem's reasons by form field: "body.basic_info.content.0.employer" and "0.employer" both name the field
 * `employer` of the form that sent it; a problem without fields is kept under "" (shown above the form).
 */
export function fieldErrors(problem: Problem): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = problem.errors?.length ? problem.errors : [{ field: problem.field ?? "", reason: problem.detail }];
  for (const { field, reason } of entries) {
    const name = formField(field);
    if (!(name in out)) out[name] = reason;
  }
  return out;
}

/** The last named (non-numeric) part of a dotted path: the field a form shows. */
export function formField(path: string | null | undefined): string {
  const parts = (path ?? "").split(".").filter((p) => p !== "" && p !== "body" && !/^\d+$/.test(p));
  return parts.length ? parts[parts.length - 1] : "";
}

/** One line for a message box: the problem's Chinese reason, or a plain fallback. */
export function messageOf(error: unknown): string {
  if (isProblem(error)) return error.detail;
  return "网络异常，请稍后再试";
}
