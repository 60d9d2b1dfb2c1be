"""The scheduler: API, SSE, and the engine loops (ticker, dispatcher, ingest, reaper)."""
