"""Adapters: the outside world (database, NATS, other systems) behind the use cases' ports."""
