"""AI help: failure analysis (built-in rules or a model) and job generation (a model).

Pure parts (redaction, the evidence bundle's window, the rules, fingerprints, patches) are plain
functions; `service` holds the use cases and `providers` the Gemini and OpenAI clients.
"""
