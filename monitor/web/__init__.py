"""The web desk: a server-rendered shell over the same use cases as the CLI (review, triage, search, feeds)."""
