"""Drafts: a form saved part-way (暂存) has the fields of its model, each optional; what is there must be valid.

`draft_of(Model)` is that model for a route's body, so OpenAPI shows every field with its title and limits while
no field is required; the full model still decides at submission."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any, Optional

from pydantic import BaseModel, create_model


@cache
def draft_of(model: type[BaseModel]) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        optional = copy.copy(info)
        optional.default, optional.default_factory = None, None
        fields[name] = (Optional[info.annotation], optional)  # noqa: UP045 - a runtime type, not an annotation
    return create_model(
        f"{model.__name__}Draft",
        __config__=model.model_config,
        __doc__=f"{model.__doc__ or model.__name__}（暂存：各字段均可缺省）",
        **fields,
    )
