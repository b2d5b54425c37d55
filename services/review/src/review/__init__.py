"""The review service.

Owns every review as a BPMN process on SpiffWorkflow 3 (application review, 初定, certificate
verification, out-of-province confirmation, talent statistics).
"""
