"""Importers: another system's release history as rollout records (pure mappings, no I/O)."""
