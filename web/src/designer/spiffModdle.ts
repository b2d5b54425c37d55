// The moddle descriptor of what the review service reads from a diagram in the spiffworkflow namespace
// (bpmn/README.md "What the review service reads"): typed, so the properties panel can edit it and the differ
// compares it. Other spiffworkflow elements still round-trip untouched as generic extension elements.
export const SPIFF_URI = "http://spiffworkflow.org/bpmn/schema/1.0/core";

export const spiffworkflowModdle = {
  name: "SpiffWorkflow",
  uri: SPIFF_URI,
  prefix: "spiffworkflow",
  // the XML says <spiffworkflow:properties>, the type is Properties
  xml: { tagAlias: "lowerCase" },
  associations: [],
  types: [
    {
      name: "Properties",
      superClass: ["Element"],
      properties: [{ name: "properties", type: "Property", isMany: true }],
    },
    {
      name: "Property",
      superClass: ["Element"],
      properties: [
        { name: "name", type: "String", isAttr: true },
        { name: "value", type: "String", isAttr: true },
      ],
    },
    { name: "MessagePayload", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] },
    { name: "MessageVariable", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] },
    { name: "CalledDecisionId", superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] },
  ],
};

export const moddleExtensions = { spiffworkflow: spiffworkflowModdle };
