"""Dev stack: embedded PostgreSQL and NATS JetStream from wheels, and the one-port runner behind `make run`."""
