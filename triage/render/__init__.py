"""Renderers: a document or a report in one output format per module (escape, units, json, markdown)."""
