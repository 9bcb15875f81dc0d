"""The daily-bar cache: Parquet per symbol in the object store, refreshed incrementally."""
