"""HTTP routes: thin; they parse, call a service, and shape the response."""
