"""A job's git source: its inputs checked, the clone cache, git runs, the tree."""
