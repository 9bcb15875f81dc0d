"""Objects in a local folder: the embedded default store."""
