"""The sync engine, its state store and the loop (added by the sync issue)."""
