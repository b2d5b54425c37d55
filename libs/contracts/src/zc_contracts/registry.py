"""Contracts: (type, version) -> payload model, for every live event version."""

from __future__ import annotations

from pydantic import ConfigDict

from zc_contracts.envelope import Envelope, EventPayload

_MODELS: dict[tuple[str, int], type[EventPayload]] = {}
_TOLERANT: dict[tuple[str, int], type[EventPayload]] = {}


class UnknownEventError(LookupError):
    pass


def register(model: type[EventPayload]) -> type[EventPayload]:
    """Class decorator: make a payload model known to consumers and to the schema export."""
    key = (model.event_type, model.version)
    if key in _MODELS and _MODELS[key] is not model:
        raise ValueError(f"event {key} registered twice")
    model.subject()  # validates the name
    _MODELS[key] = model
    # consumers read tolerantly: fields added later in the same major version are ignored
    _TOLERANT[key] = type(model.__name__, (model,), {"model_config": ConfigDict(frozen=True, extra="ignore")})
    return model


def model_for(event_type: str, version: int) -> type[EventPayload]:
    try:
        return _MODELS[(event_type, version)]
    except KeyError:
        raise UnknownEventError(f"no contract for {event_type} v{version}") from None


def all_models() -> list[type[EventPayload]]:
    return [_MODELS[k] for k in sorted(_MODELS)]


def parse_payload(envelope: Envelope) -> EventPayload:
    """Validate an envelope's data against its contract, ignoring unknown fields."""
    model_for(envelope.type, envelope.version)
    return _TOLERANT[(envelope.type, envelope.version)].model_validate(envelope.data)
