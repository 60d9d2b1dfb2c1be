"""The scheduler's use cases: what the API, the loops and the CLI ask of jobs, runs and domains."""
