"""The Redis broker: queues and event streams in Redis Streams, leases and control messages."""
