"""DB layer: metadata with naming conventions, so every constraint has a stable name for migrations."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata(schema: str | None = None) -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION, schema=schema)


class Base(DeclarativeBase):
    """A declarative base for services that want one; each service should subclass with its own metadata."""

    metadata = new_metadata()
