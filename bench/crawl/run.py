"""Crawl every page and API GET as every role and time it (issue 16).

    .venv/bin/python bench/crawl/run.py --database-url postgres://postgres@127.0.0.1:5432/cf_bench_dashboards \
        [--repeat 5] [--max-per-route 2] [--roles finance,city,...] [--out bench/out/crawl.json]
        [--urls /complaints/stats/,/dashboards/district/]      # only these, no link followed

Works on any portal database whose name starts with ``cf_bench``: the demo (``seed_demo``, ~60
institutions) or the province data set of ``bench/dashboards/generate.py`` (5,000 institutions,
100,000 employees, 200,000 complaints). The demo users (finance, finance2, inspector, thirdparty,
filer, head, discipline, apiclient, employee, city), a superuser if one exists, and anonymous
visitors each start from every route that needs no argument (the URLconf), the home page and
the API root, and follow every same-site link (HTML ``href``) and every local URL in JSON answers
(``next``, ``url``, and ``<list>/<id>/`` for list items with an ``id``), keeping at most
``--max-per-route`` URLs per route name. Each URL is requested ``--repeat`` times in this process
(Django's test client through the whole middleware stack, with DEBUG off, after ``config.wsgi``'s
warm-up as in a gunicorn worker: the server's time, without the network); the first answer's
status, size and query count are recorded.

Prints the pairs (role, URL) above 300 ms p95, every 5xx, the ten slowest with their query counts,
and the median of the rest; writes every row to ``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import sys
import time
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scoring"))


from benchlib import REPO, setup_django

ROLES = ["finance", "finance2", "inspector", "thirdparty", "filer", "head", "discipline", "apiclient",
         "employee", "city"]
SKIP = re.compile(r"^/(accounts/logout|i18n/|static/|media/|metrics$)|/logout/?$")
BUDGET_MS = 300


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def argument_free_routes() -> list[tuple[str, str]]:
    """(route name, path) of every named URL pattern that reverses without arguments."""
    from django.urls import NoReverseMatch, get_resolver, reverse

    out = []

    def walk(patterns, namespace=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, ns)
            elif p.name:
                with contextlib.suppress(NoReverseMatch):
                    out.append((namespace + p.name, reverse(namespace + p.name)))

    walk(get_resolver().url_patterns)
    return out


def route_of(path: str) -> str:
    from django.urls import Resolver404, resolve

    try:
        match = resolve(path)
    except Resolver404:
        return ""
    return match.view_name or match._func_path


def local(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme and parts.netloc not in ("testserver", ""):
        return None
    if not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def discover(body: bytes, content_type: str, base: str) -> list[str]:
    found = []
    if "html" in content_type:
        parser = Links()
        try:
            parser.feed(body.decode("utf-8", "replace"))
        except Exception:  # a broken page still counts; its links are skipped
            return []
        found = [urljoin(base, href) for href in parser.links]
    elif "json" in content_type:
        try:
            data = json.loads(body)
        except ValueError:
            return []
        list_base = urlsplit(base).path

        def walk(value, key=""):
            if isinstance(value, dict):
                for k, v in value.items():
                    walk(v, k)
            elif isinstance(value, list):
                for item in value[:3]:
                    if isinstance(item, dict) and isinstance(item.get("id"), int) and key in ("results", ""):
                        found.append(f"{list_base}{item['id']}/")
                    walk(item, key)
            elif isinstance(value, str) and (key in ("next", "url") or value.startswith(("/api/", "http://testserver/"))):
                found.append(value)

        walk(data)
    return [u for u in (local(x) for x in found) if u]


def crawl_role(client, role: str, seeds: list[str], repeat: int, max_per_route: int, limit: int,
               follow: bool = True) -> list[dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    queue = deque(seeds)
    seen: set[str] = set()
    per_route: dict[str, int] = {}
    rows = []
    while queue and len(rows) < limit:
        url = queue.popleft()
        if url in seen or SKIP.search(urlsplit(url).path):
            continue
        seen.add(url)
        route = route_of(urlsplit(url).path)
        if not route or per_route.get(route, 0) >= max_per_route:
            continue
        per_route[route] = per_route.get(route, 0) + 1
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url, secure=True)
            first = (time.perf_counter() - started) * 1000
            body = b"".join(response.streaming_content) if response.streaming else response.content
        queries = len(ctx.captured_queries)  # now: the next request clears the log it reads
        times = [first]
        for _ in range(repeat - 1):
            started = time.perf_counter()
            again = client.get(url, secure=True)
            if again.streaming:
                b"".join(again.streaming_content)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        error = ""
        if getattr(response, "exc_info", None):  # a 5xx: the exception, recorded instead of stopping the crawl
            error = f"{response.exc_info[0].__name__}: {str(response.exc_info[1])[:300]}"
        rows.append({"role": role, "url": url, "route": route, "status": response.status_code,
                     "bytes": len(body), "queries": queries, "error": error,
                     "p50_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1),
                     "max_ms": round(times[-1], 1)})
        if response.status_code == 200 and follow:
            for link in discover(body, response.get("Content-Type", ""), url):
                if link not in seen:
                    queue.append(link)
    return rows


def summarize(rows: list[dict], seconds: float | None = None) -> None:
    over = [r for r in rows if r["p95_ms"] > BUDGET_MS]
    errors = [r for r in rows if r["status"] >= 500]
    rest = [r["p50_ms"] for r in rows if r["p95_ms"] <= BUDGET_MS]
    print(f"\n{len(rows)} (role, URL) pairs in {seconds or 0:.0f} s; "
          f"{len(over)} above {BUDGET_MS} ms p95; {len(errors)} answered 5xx; "
          f"median of the rest {statistics.median(rest) if rest else 0:.1f} ms")
    for r in errors:
        print(f"  5xx {r['status']} {r['role']} {r['url']} {r.get('error', '')}")
    print("\nten slowest (p95):")
    print(f"  {'p95 ms':>8} {'p50 ms':>8} {'queries':>7} {'KB':>7}  role        URL")
    for r in sorted(rows, key=lambda r: -r["p95_ms"])[:10]:
        print(f"  {r['p95_ms']:8.1f} {r['p50_ms']:8.1f} {r['queries']:7d} {r['bytes'] / 1024:7.0f}  "
              f"{r['role']:<11} {r['url']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--max-per-route", type=int, default=2)
    parser.add_argument("--limit", type=int, default=600, help="URLs per role at most")
    parser.add_argument("--roles", default=",".join(["anon", *ROLES, "admin"]))
    parser.add_argument("--out", default=str(REPO / "bench" / "out" / "crawl.json"))
    parser.add_argument("--report", help="only print the summary of an earlier run's rows (JSON)")
    parser.add_argument("--urls", help="only these URLs (comma-separated paths), no link followed: "
                                       "re-time the slow pairs of a crawl after a fix")
    args = parser.parse_args()
    if args.report:
        summarize(json.loads(Path(args.report).read_text()))
        return 0

    import os

    # Rate limits would answer 429 to a crawler; production settings otherwise.
    for name in ("PUBLIC_READ_RATE", "COMPLAINTS_RATE_SUBMIT_IP", "COMPLAINTS_RATE_SUBMIT_CODE",
                 "COMPLAINTS_RATE_TRACK_IP"):
        os.environ[name] = ""
    os.environ.setdefault("REQUEST_LOG_LEVEL", "WARNING")
    setup_django(args.database_url)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    import config.wsgi  # noqa: F401  (what a gunicorn worker loads before its first request: the warm-up)

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    seeds = (args.urls.split(",") if args.urls
             else ["/", "/api/v1/", *[path for _name, path in argument_free_routes()]])
    User = get_user_model()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    started = time.perf_counter()
    for role in args.roles.split(","):
        client = Client(raise_request_exception=False)
        if role == "admin":
            user = User.objects.filter(is_superuser=True, is_active=True).first()
            if user is None:
                continue
            client.force_login(user)
        elif role != "anon":
            user = User.objects.filter(username=role).first()
            if user is None:
                print(f"  {role}: no such user, skipped")
                continue
            client.force_login(user)
        role_rows = crawl_role(client, role, seeds, args.repeat, 1000 if args.urls else args.max_per_route, args.limit,
                               follow=not args.urls)
        slow = sum(r["p95_ms"] > BUDGET_MS for r in role_rows)
        print(f"  {role:>10}: {len(role_rows)} URLs, {slow} above {BUDGET_MS} ms p95", flush=True)
        rows += role_rows
        out.write_text(json.dumps(rows, ensure_ascii=False, indent=1))  # after each role: usable if cut short

    summarize(rows, time.perf_counter() - started)
    print(f"\nrows: {out}")
    return 1 if any(r["status"] >= 500 for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
