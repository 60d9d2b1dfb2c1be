"""A job's git source on the worker: host checks, the clone cache, git runs, the checkout tree."""
