"""A web process builds at start-up what its first requests would otherwise pay for (core/warmup.py,
issue 16): the URL tables, the catalogues, the templates and the API schema, then freezes what it
loaded out of the collector's full collections."""

import logging
import os
import subprocess
import sys
from pathlib import Path

from core import warmup

ROOT = Path(__file__).resolve().parents[2]


def test_a_web_process_starts_warm():
    probe = ("import config.wsgi, gc; from core.api import schema; from django.urls import get_resolver; "
             "from django.template import engines; "
             "cached = engines['django'].engine.template_loaders[0].get_template_cache; "
             "print(gc.get_freeze_count() > 10000, bool(schema._schemas), get_resolver()._populated, "
             "len(cached) > 100)")
    # A database that cannot be opened: the warm-up never touches it (safe before a fork).
    env = {**os.environ, "DATABASE_URL": "sqlite:////nonexistent-folder/portal.db"}
    started = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT,
                             env=env)
    assert started.stdout.strip().splitlines()[-1] == "True True True True", started.stderr[-2000:]
    assert "failed" not in started.stderr and "warmed up (urls, catalogues, templates, schema)" in started.stderr


def test_every_template_is_found_and_a_broken_step_never_stops_the_start(monkeypatch, caplog):
    names = warmup.template_names()
    assert "base.html" in names and "complaints/poster.html" in names and "admin/pagination.html" in names

    def broken():
        raise RuntimeError("no schema today")

    monkeypatch.setattr(warmup, "_schema", broken)
    monkeypatch.setattr(warmup.gc, "freeze", lambda: None)  # not in the test process
    with caplog.at_level(logging.INFO, logger="core.warmup"):
        warmup.warm_up()
    assert "warm-up step schema failed" in caplog.text
    assert "warmed up (urls, catalogues, templates)" in caplog.text
