"""API: HTTP routes, request/response schemas and dependencies."""
