"""Messaging: how a handler tells the consumer runner what kind of failure it hit."""


class TransientError(Exception):
    """Retry later (nak with backoff): a dependency is down or busy."""


class PoisonMessageError(Exception):
    """Never retry (term + dead-letter): the message itself cannot be processed."""
