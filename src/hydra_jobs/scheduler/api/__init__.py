"""The scheduler's web layer: the FastAPI app, its routes, authentication, audit and serving."""
