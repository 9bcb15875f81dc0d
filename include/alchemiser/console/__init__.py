"""The operator's console: pages built only from what runs wrote to the object store."""
