"""Response bodies: what the services' response models share.

- `IsoDateTime`: a time as the use cases write it, `datetime.isoformat()` ("2026-11-27T02:00:00+00:00"). Pydantic
  would write "Z" for UTC; a response model declaring a time keeps the text the use case wrote instead, and
  OpenAPI shows a `date-time` string.
- `Paged`, `PageNumber`, `PageSize`: a paged list's fields and query parameters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

IsoDateTime = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class Paged(BaseModel):
    """The pager's fields of a list response ("共 N 条  10 条/页"); the list itself is the subclass's `items`."""

    total: int = Field(title="总数")
    page: int = Field(title="页码")
    size: int = Field(title="每页条数")


# The query parameters of a paged list: the same bounds on every list of the portal.
PageNumber = Annotated[int, Query(ge=1, le=1000, description="页码")]
PageSize = Annotated[int, Query(ge=1, le=50, description="每页条数")]
