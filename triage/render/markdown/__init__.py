"""Markdown, one module per document kind: for an incident channel, a ticket or a review."""
