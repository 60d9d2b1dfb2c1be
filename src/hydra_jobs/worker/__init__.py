"""The worker: claims runs, executes them as supervised subprocesses and reports the outcome."""
