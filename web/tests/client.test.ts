// The API client's error mapping: a problem+json answer shows its reasons on the form's fields.
import { describe, expect, it } from "vitest";

import { fieldErrors, formField, isProblem, messageOf, type Problem } from "../src/api/client";

const problem = (extra: Partial<Problem>): Problem => ({
  type: "about:blank",
  title: "请求内容不符合要求",
  status: 422,
  detail: "employer：不能为空",
  code: "request.invalid",
  instance: null,
  field: null,
  errors: null,
  trace_id: null,
  request_id: null,
  ...extra,
});

describe("formField", () => {
  it("names the form's field from the server's dotted path", () => {
    expect(formField("body.work_history.content.0.employer")).toBe("employer");
    expect(formField("0.category")).toBe("category");
    expect(formField("ethnicity")).toBe("ethnicity");
    expect(formField("")).toBe("");
    expect(formField(null)).toBe("");
  });
});

describe("fieldErrors", () => {
  it("puts every reason on its field, the first one winning", () => {
    const found = fieldErrors(
      problem({
        field: "body.employer",
        errors: [
          { field: "body.employer", reason: "不能为空" },
          { field: "body.content", reason: "不能超过500个字" },
          { field: "body.employer", reason: "第二个原因" },
        ],
      }),
    );
    expect(found).toEqual({ employer: "不能为空", content: "不能超过500个字" });
  });

  it("keeps a problem without fields under the empty name (shown above the form)", () => {
    expect(fieldErrors(problem({ status: 409, detail: "该信息已被修改（可能在其他窗口），请刷新后再保存", field: null }))).toEqual({
      "": "该信息已被修改（可能在其他窗口），请刷新后再保存",
    });
    expect(fieldErrors(problem({ field: "entry_id", detail: "请先保存该条目，再上传附件" }))).toEqual({
      entry_id: "请先保存该条目，再上传附件",
    });
  });
});

describe("messageOf", () => {
  it("shows the server's Chinese reason, or a plain fallback", () => {
    expect(isProblem(problem({}))).toBe(true);
    expect(messageOf(problem({ detail: "已过个人初次提交截止时间" }))).toBe("已过个人初次提交截止时间");
    expect(messageOf(new TypeError("Failed to fetch"))).toBe("网络异常，请稍后再试");
  });
});
