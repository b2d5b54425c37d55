// The JSON Schemas forms are drawn from, read at run time from the service that validates the body (its own
// /openapi.json), so a limit lives in one place: the server's model. Fetched once per service and page load.
import type { JsonSchema } from "./schema";

interface OpenApiDocument {
  components: { schemas: Record<string, JsonSchema> };
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>;
}

const documents = new Map<string, Promise<OpenApiDocument>>();

export function serviceDocument(service: string): Promise<OpenApiDocument> {
  let found = documents.get(service);
  if (!found) {
    found = fetch(`/api/${service}/openapi.json`).then((r) => {
      if (!r.ok) throw new Error(`openapi.json of ${service}: ${r.status}`);
      return r.json() as Promise<OpenApiDocument>;
    });
    documents.set(service, found);
  }
  return found;
}

/** The JSON body schema of an operation, with the components its references point into. */
export async function requestSchema(
  service: string,
  path: string,
  method: string,
): Promise<{ schema: JsonSchema; components: Record<string, JsonSchema> }> {
  const document = await serviceDocument(service);
  const body = document.paths[path]?.[method]?.requestBody?.content["application/json"]?.schema;
  if (!body) throw new Error(`no JSON body for ${method.toUpperCase()} ${path}`);
  return { schema: body, components: document.components.schemas };
}
