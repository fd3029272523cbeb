"""projects admin."""
