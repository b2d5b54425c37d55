"""The government data sources (社保, 学信网, 省职业资格) behind one port, shared by the services that query
them (applications for 申报, certificates for 证书核验). See docs/decisions/0011."""

from zc_registries.adapters import DemoRegistry, HttpRegistry
from zc_registries.identity import NatsPersonResolver
from zc_registries.ports import ExternalRegistry, Person, PersonResolver, SourceUnavailableError

__all__ = [
    "DemoRegistry",
    "ExternalRegistry",
    "HttpRegistry",
    "NatsPersonResolver",
    "Person",
    "PersonResolver",
    "SourceUnavailableError",
]
