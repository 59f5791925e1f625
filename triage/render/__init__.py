"""Renderers: documents and plans turned into text for a reader (markdown, tables, JSON), one module per output."""
