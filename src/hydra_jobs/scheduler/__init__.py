"""The scheduler: `api/` (the web layer), `loops/` (engine, ticker, dispatcher, ingest, reaper,
retention), `services/` (the use cases), `ai/`; `context.py`, `hub.py` and `audit_log.py` are
what they all share."""
