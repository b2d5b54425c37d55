"""Messaging: JetStream publisher, transactional outbox + relay, inbox-deduplicating consumers, topology."""

from zc_messaging.connection import NatsConnection
from zc_messaging.consumer import ConsumerRunner, Handler
from zc_messaging.errors import PoisonMessageError, TransientError
from zc_messaging.follow import follow_subject
from zc_messaging.outbox import OutboxRelay, Publisher, add_all_to_outbox, add_to_outbox
from zc_messaging.provision import provision
from zc_messaging.runtime import ServiceRuntime
from zc_messaging.stats import MessagingStats
from zc_messaging.topology import TOPOLOGY, ConsumerSpec, StreamSpec, Topology, dlq_subject
from zc_messaging.worker import WorkerSpec, install_signal_handlers, run_service_worker, run_worker, worker_main

__all__ = [
    "TOPOLOGY",
    "ConsumerRunner",
    "ConsumerSpec",
    "Handler",
    "MessagingStats",
    "NatsConnection",
    "OutboxRelay",
    "PoisonMessageError",
    "Publisher",
    "ServiceRuntime",
    "StreamSpec",
    "Topology",
    "TransientError",
    "WorkerSpec",
    "add_all_to_outbox",
    "add_to_outbox",
    "dlq_subject",
    "follow_subject",
    "install_signal_handlers",
    "provision",
    "run_service_worker",
    "run_worker",
    "worker_main",
]
