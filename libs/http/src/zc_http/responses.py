"""Response bodies: what the services' response models share.

- `IsoDateTime`: a time as the use cases write it, `datetime.isoformat()` ("2026-11-27T02:00:00+00:00"). Pydantic
  would write "Z" for UTC; a response model declaring a time keeps the text the use case wrote instead, and
  OpenAPI shows a `date-time` string."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema

IsoDateTime = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
