"""The brand gateway: OAuth 2.0 server and brand API (issue 4)."""
