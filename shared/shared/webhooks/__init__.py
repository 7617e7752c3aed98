"""Webhooks: hooks kept in object storage, events published by the pipeline, deliveries
queued in Redis and sent, signed, by ingestworker's deliverer (`deliver-webhooks`)."""
