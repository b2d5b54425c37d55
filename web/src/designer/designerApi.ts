// The review service's process-definition API as the designer screens use it (typed by the generated client).
import { api, messageOf, type Schemas } from "@/api/client";

export type Definition = Schemas["DeployedDefinition"];
export type Validation = Schemas["DiagramValidation"];
export type Diff = Schemas["DefinitionDiff"];
export type MigrationReport = Schemas["MigrationReport"];
export type Vocabulary = Schemas["DesignerVocabulary"];

export class ApiError extends Error {}

function fail(error: unknown): never {
  throw new ApiError(messageOf(error));
}

export async function definitions(): Promise<Definition[]> {
  const { data, error } = await api.GET("/api/review/definitions");
  if (error || !data) fail(error);
  return data.items;
}

/** The versions of one process, oldest first. */
export async function versions(processKey: string): Promise<Definition[]> {
  return (await definitions()).filter((d) => d.process_key === processKey).sort((a, b) => a.version - b.version);
}

export async function vocabulary(): Promise<Vocabulary> {
  const { data, error } = await api.GET("/api/review/definitions/vocabulary");
  if (error || !data) fail(error);
  return data;
}

export async function source(processKey: string, version: number): Promise<string> {
  const { data, error } = await api.GET("/api/review/definitions/{process_key}/{version}/source", {
    params: { path: { process_key: processKey, version } },
    parseAs: "text",
  });
  if (error || typeof data !== "string") fail(error);
  return data;
}

export async function decisionTables(processKey: string, version: number): Promise<string[]> {
  const { data, error } = await api.GET("/api/review/definitions/{process_key}/{version}/decisions", {
    params: { path: { process_key: processKey, version } },
  });
  if (error || !data) fail(error);
  return data.tables;
}

export interface Upload {
  process_key: string;
  source: string;
  decisions: string[];
  trusted: boolean;
}

export async function validate(body: Upload): Promise<Validation> {
  const { data, error } = await api.POST("/api/review/definitions/validate", { body });
  if (error || !data) fail(error);
  return data;
}

export async function deploy(body: Upload): Promise<Definition> {
  const { data, error } = await api.POST("/api/review/definitions", { body });
  if (error || !data) fail(error);
  return data;
}

export async function diff(processKey: string, from: number, to: number): Promise<Diff> {
  const { data, error } = await api.GET("/api/review/definitions/{process_key}/diff", {
    params: { path: { process_key: processKey }, query: { from_version: from, to_version: to } },
  });
  if (error || !data) fail(error);
  return data;
}

export async function migrate(
  processKey: string,
  body: { from_version: number; to_version: number; dry_run: boolean; reason: string },
): Promise<MigrationReport> {
  const { data, error } = await api.POST("/api/review/definitions/{process_key}/migrations", {
    params: { path: { process_key: processKey } },
    body,
  });
  if (error || !data) fail(error);
  return data;
}
