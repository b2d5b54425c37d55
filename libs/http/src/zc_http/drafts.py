"""Forms: the models of what users fill in, as OpenAPI shows them to the web client.

- `FORM`: the config of a form model. A field's title is its Chinese label (its `description`), so a form drawn
  from the JSON Schema shows 毕业院校, not `school`.
- `draft_of(Model)`: a form saved part-way (暂存) has the fields of its model, each optional; what is there must
  be valid. It is that model for a route's body, so OpenAPI shows every field with its title and limits while no
  field is required; the full model still decides at submission."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, create_model
from pydantic.fields import ComputedFieldInfo, FieldInfo


def label_as_title(name: str, info: FieldInfo | ComputedFieldInfo) -> str:
    return info.description or name


FORM = ConfigDict(extra="forbid", str_strip_whitespace=True, field_title_generator=label_as_title)


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
