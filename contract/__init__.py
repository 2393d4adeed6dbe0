"""The API contract: schema models, the generated OpenAPI document, the reference client and contract tests."""
