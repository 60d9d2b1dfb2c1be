"""The scheduler's background loops: ticker, dispatcher, ingest, reaper, retention."""
