"""Messaging: the one declaration of every JetStream stream and durable consumer in the system.

Services only bind to these; `zc_messaging.provision` creates or updates them (pull_subscribe would
silently ignore a changed config on an existing durable, so nothing is created at subscribe time).
Streams use file storage; the server runs with `sync_interval: always`, so an ack means on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Redeliveries after a relay crash reach the stream with the same Nats-Msg-Id; inside this window
# JetStream drops them, after it the consumers' inbox tables do.
DUPLICATE_WINDOW_SECONDS = 20 * 60


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    max_age_days: int = 365
    duplicate_window_seconds: int = DUPLICATE_WINDOW_SECONDS


@dataclass(frozen=True)
class ConsumerSpec:
    durable: str  # `<consumer_svc>__<purpose>`
    stream: str
    filter_subject: str
    ack_wait_seconds: float = 30.0
    max_deliver: int = 8
    # nak delays by delivery attempt (seconds); the last one repeats
    backoff_seconds: tuple[float, ...] = (1, 5, 15, 60, 120)
    max_ack_pending: int = 256
    description: str = ""

    @property
    def service(self) -> str:
        return self.durable.split("__", 1)[0]


@dataclass(frozen=True)
class Topology:
    streams: tuple[StreamSpec, ...]
    consumers: tuple[ConsumerSpec, ...] = field(default_factory=tuple)

    def consumer(self, durable: str) -> ConsumerSpec:
        for c in self.consumers:
            if c.durable == durable:
                return c
        raise KeyError(f"no consumer {durable!r} in the topology")

    def stream_for_subject(self, subject: str) -> StreamSpec:
        producer = subject.split(".", 1)[0]
        for s in self.streams:
            if s.name == producer.upper():
                return s
        raise KeyError(f"no stream for subject {subject!r}")


DLQ_STREAM = StreamSpec(name="DLQ", subjects=("dlq.>",), max_age_days=30)


def dlq_subject(stream: str, consumer: str) -> str:
    return f"dlq.{stream.lower()}.{consumer}"


# One stream per producer. Consumers are added here by the issue that adds their handler.
TOPOLOGY = Topology(
    streams=(
        StreamSpec(name="APPLICATIONS", subjects=("applications.>",)),
        StreamSpec(name="REVIEW", subjects=("review.>",)),
        StreamSpec(name="CERTIFICATES", subjects=("certificates.>",)),
        StreamSpec(name="IDENTITY", subjects=("identity.>",)),
        DLQ_STREAM,
    ),
    consumers=(
        ConsumerSpec(
            durable="applications__review_outcomes",
            stream="REVIEW",
            filter_subject="review.application.>",
            description="applications: status and notices from review decisions",
        ),
        ConsumerSpec(
            durable="applications__record_outcomes",
            stream="REVIEW",
            filter_subject="review.record.>",
            description="applications: outcomes of 外省职称确认 and 专技人才统计 reviews",
        ),
        ConsumerSpec(
            durable="applications__certificates_issued",
            stream="CERTIFICATES",
            filter_subject="certificates.certificate.issued.v1",
            description="applications: 已发证 and the notice to the holder",
        ),
        ConsumerSpec(
            durable="review__application_submissions",
            stream="APPLICATIONS",
            filter_subject="applications.application.submitted.v1",
            description="review: start the review of a submitted application, or resume it after a return",
        ),
        ConsumerSpec(
            durable="review__withdraw_requests",
            stream="APPLICATIONS",
            filter_subject="applications.application.withdraw_requested.v1",
            description="review: grant or refuse 撤回 (only while the unit has not decided)",
        ),
        ConsumerSpec(
            durable="review__record_submissions",
            stream="APPLICATIONS",
            filter_subject="applications.record.submitted.v1",
            description="review: start the review of a 外省职称确认 or 专技人才统计 record",
        ),
        ConsumerSpec(
            durable="certificates__review_approved",
            stream="REVIEW",
            filter_subject="review.application.approved.v1",
            description="certificates: issue exactly one certificate per approval",
        ),
        ConsumerSpec(
            durable="certificates__record_outcomes",
            stream="REVIEW",
            filter_subject="review.record.decided.v1",
            description="certificates: 证书核验 outcomes (verified certificates appear under 我的证书)",
        ),
        ConsumerSpec(
            durable="certificates__record_submissions",
            stream="APPLICATIONS",
            filter_subject="applications.record.submitted.v1",
            description="certificates: keep what a 外省职称确认 asks to confirm, to record it when it passes",
        ),
        ConsumerSpec(
            durable="review__verification_requests",
            stream="CERTIFICATES",
            filter_subject="certificates.verification.requested.v1",
            description="review: start 证书核验 (certificate_verification) for a historical certificate",
        ),
    ),
)
