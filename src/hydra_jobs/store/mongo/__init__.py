"""The MongoDB store: documents, indexes and tenancy in MongoDB."""
