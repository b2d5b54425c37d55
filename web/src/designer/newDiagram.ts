// A new process starts from the smallest diagram the review service accepts: start → one user task in the unit's
// lane → end. The designer then draws on from there.
function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export function newDiagram(processKey: string, name: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="${processKey}_defs" targetNamespace="https://zhicheng.example/bpmn">
  <bpmn:process id="${processKey}" name="${escape(name)}" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_unit" name="unit_reviewer">
        <bpmn:flowNodeRef>unit_review</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="提交" />
    <bpmn:sequenceFlow id="flow_start" sourceRef="start" targetRef="unit_review" />
    <bpmn:userTask id="unit_review" name="单位审核">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formKey" value="unit_review_v1" />
          <spiffworkflow:property name="decisions" value="approve,reject" />
          <spiffworkflow:property name="stage" value="unit" />
          <spiffworkflow:property name="scope" value="unit:unit_id" />
          <spiffworkflow:property name="dueIn" value="10" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="flow_end" sourceRef="unit_review" targetRef="end" />
    <bpmn:endEvent id="end" name="结束" />
  </bpmn:process>
</bpmn:definitions>
`;
}
