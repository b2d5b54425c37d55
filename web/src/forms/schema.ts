// JSON Schema (from the services' OpenAPI documents) -> the fields of a form. The server's limits are the
// client's limits: a title is the manual's label, maxLength the "0 / 50" counter, required the red star, an
// enumeration a select.
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  maxLength?: number;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
}

export type FieldKind =
  | "text"
  | "textarea"
  | "select"
  | "date"
  | "datetime"
  | "boolean"
  | "integer"
  | "number"
  | "list";

export interface FieldSpec {
  name: string;
  label: string;
  required: boolean;
  kind: FieldKind;
  maxLength?: number;
  minLength?: number;
  options?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  item?: JsonSchema; // a list's row schema
}

/** Long texts (业绩综述, 工作内容) get a text area; shorter ones a line. */
const TEXTAREA_FROM = 100;

export function resolve(schema: JsonSchema, components: Record<string, JsonSchema>): JsonSchema {
  let current = schema;
  for (let depth = 0; depth < 10; depth++) {
    if (current.$ref) {
      const name = current.$ref.split("/").pop() ?? "";
      current = { ...components[name], ...withoutRef(current) };
      continue;
    }
    const alternatives = current.anyOf ?? current.oneOf;
    if (alternatives) {
      const present = alternatives.filter((s) => s.type !== "null");
      if (present.length === 1) {
        current = { ...present[0], title: current.title ?? present[0].title, description: current.description };
        continue;
      }
    }
    if (current.allOf?.length === 1) {
      current = { ...current.allOf[0], title: current.title ?? current.allOf[0].title };
      continue;
    }
    return current;
  }
  return current;
}

function withoutRef(schema: JsonSchema): JsonSchema {
  const { $ref: _unused, ...rest } = schema;
  return rest;
}

function kindOf(schema: JsonSchema): FieldKind {
  if (schema.enum || schema.const !== undefined) return "select";
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  if (type === "boolean") return "boolean";
  if (type === "integer") return "integer";
  if (type === "number") return "number";
  if (type === "array") return "list";
  if (schema.format === "date") return "date";
  if (schema.format === "date-time") return "datetime"; // 答辩时间
  return (schema.maxLength ?? 0) > TEXTAREA_FROM ? "textarea" : "text";
}

/** The fields of an object schema, in the schema's order (the server's model order is the manual's). */
export function fieldsOf(schema: JsonSchema, components: Record<string, JsonSchema>): FieldSpec[] {
  const object = resolve(schema, components);
  const required = new Set(object.required ?? []);
  return Object.entries(object.properties ?? {}).map(([name, raw]) => {
    const field = resolve(raw, components);
    const kind = kindOf(field);
    const spec: FieldSpec = {
      name,
      label: field.title ?? raw.title ?? name,
      required: required.has(name),
      kind,
    };
    if (field.maxLength !== undefined) spec.maxLength = field.maxLength;
    if (field.minLength !== undefined) spec.minLength = field.minLength;
    if (field.minimum !== undefined) spec.min = field.minimum;
    if (field.maximum !== undefined) spec.max = field.maximum;
    if (field.pattern !== undefined) spec.pattern = field.pattern;
    if (kind === "select") spec.options = (field.enum ?? [field.const]).map(String);
    if (kind === "list" && field.items) spec.item = field.items;
    return spec;
  });
}

/** What the form refuses before any request, as the server would (the same limits): "" when fine. */
export function problemWith(spec: FieldSpec, value: unknown): string {
  const empty = value === undefined || value === null || value === "";
  if (empty) return spec.required ? `请填写${spec.label}` : "";
  if (typeof value === "string") {
    const length = [...value].length;
    if (spec.maxLength !== undefined && length > spec.maxLength) return `${spec.label}不能超过${spec.maxLength}个字`;
    if (spec.minLength !== undefined && length < spec.minLength) return `请填写${spec.label}`;
    if (spec.pattern && !new RegExp(spec.pattern).test(value)) return `${spec.label}格式不正确`;
    if (spec.options && !spec.options.includes(value)) return `请选择${spec.label}`;
  }
  if (typeof value === "number") {
    if (spec.min !== undefined && value < spec.min) return `${spec.label}不能小于${spec.min}`;
    if (spec.max !== undefined && value > spec.max) return `${spec.label}不能大于${spec.max}`;
  }
  return "";
}

/** A value as the read-only pages show it: 是 / 否 for a switch, — for nothing filled in. */
export function shown(value: unknown): string {
  if (value === undefined || value === null || value === "") return "—";
  if (typeof value === "boolean") return value ? "是" : "否";
  return String(value);
}
