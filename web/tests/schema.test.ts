// The schema-to-form renderer: the fields, limits, stars and enumerations come from the OpenAPI document the
// client is generated from (../openapi.json), exactly as the server validates them.
import { mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";

import document from "../openapi.json";
import SchemaForm from "../src/forms/SchemaForm.vue";
import { fieldsOf, type JsonSchema, problemWith } from "../src/forms/schema";

const components = document.components.schemas as unknown as Record<string, JsonSchema>;
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

describe("fieldsOf", () => {
  const fields = fieldsOf(ref("BasicInfo"), components);
  const byName = Object.fromEntries(fields.map((f) => [f.name, f]));

  it("takes the manual's labels, counters and stars from the schema", () => {
    expect(byName.former_name).toMatchObject({ label: "曾用名", maxLength: 10, required: false, kind: "text" });
    expect(byName.performance_summary).toMatchObject({ label: "业绩综述", maxLength: 2000, kind: "textarea" });
    expect(byName.mobile_phone.required).toBe(true);
    expect(byName.birth_date.kind).toBe("date");
  });

  it("turns enumerations into selects with the standard's values", () => {
    expect(byName.ethnicity.kind).toBe("select");
    expect(byName.ethnicity.options).toContain("汉族");
    expect(byName.ethnicity.options).toHaveLength(58);
    expect(byName.gender.options).toEqual(["男", "女"]);
  });

  it("keeps the server's order (the manual's)", () => {
    expect(fields.map((f) => f.name).slice(0, 3)).toEqual(["former_name", "gender", "mobile_phone"]);
  });
});

describe("problemWith", () => {
  const [name] = fieldsOf(ref("BasicInfo"), components).filter((f) => f.name === "former_name");
  const [phone] = fieldsOf(ref("BasicInfo"), components).filter((f) => f.name === "mobile_phone");

  it("refuses what the server would, before any request", () => {
    expect(problemWith(name, "一二三四五六七八九十")).toBe("");
    expect(problemWith(name, "一二三四五六七八九十一")).toBe("曾用名不能超过10个字");
    expect(problemWith(phone, undefined)).toBe("请填写手机号码");
    expect(problemWith(phone, "1234")).not.toBe("");
    expect(problemWith(phone, "13800000001")).toBe("");
  });
});

describe("SchemaForm", () => {
  it("draws stars, word-limit counters and selects", () => {
    const wrapper = mount(SchemaForm, {
      props: { schema: ref("BasicInfo"), components, modelValue: { former_name: "王" } },
    });
    const item = (field: string) => wrapper.find(`[data-field="${field}"]`);
    expect(item("former_name").text()).toContain("曾用名");
    expect(item("former_name").text()).toContain("1 / 10");
    expect(item("mobile_phone").classes()).toContain("is-required");
    expect(item("former_name").classes()).not.toContain("is-required");
    expect(item("ethnicity").find(".el-select").exists()).toBe(true);
  });
});
