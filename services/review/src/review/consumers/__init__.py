"""Consumers: durable consumer name -> handler, for the subjects this service reacts to.

Each handler gets the envelope and the open transaction of the inbox record (see zc_messaging).
None yet: the handlers arrive with issues #6, #7.
"""

from __future__ import annotations

from zc_messaging import Handler

HANDLERS: dict[str, Handler] = {}
