"""An endpoint that answers an HTML error page is said by its title, not by its markup."""

from __future__ import annotations

from triage.health.endpoint import check_endpoint
from triage.models.health import EndpointProbe

PAGE = ('<!DOCTYPE HTML>\n<html lang="en"><head><meta charset="utf-8"><title>Error response</title></head>'
        "<body><h1>Error response</h1><p>Error code: 404</p><p>Message: File not found.</p></body></html>")


def test_an_html_404_reads_as_its_title():
    f = check_endpoint(EndpointProbe("http://127.0.0.1:8000/health", 404, 0.002, text=PAGE))
    assert f.reason == "EndpointDown" or f.status.value != "ok"
    assert "Error response" in f.detail and "<" not in f.detail and "DOCTYPE" not in f.detail, f.detail


def test_html_without_a_title_keeps_its_text_and_plain_text_is_unchanged():
    page = "<html><body><p>db &amp; cache down</p></body></html>"
    f = check_endpoint(EndpointProbe("http://x/ready", 503, 0.002, text=page))
    assert "db & cache down" in f.detail and "<" not in f.detail, f.detail
    f = check_endpoint(EndpointProbe("http://x/ready", 503, 0.002, text="not ready: <pending migrations>"))
    assert "not ready: <pending migrations>" in f.detail, f.detail
