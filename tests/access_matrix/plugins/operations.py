"""Operations (issue 16, API.md "Operations"): the probes and the metrics.

/readyz answers everyone, like /healthz (a balancer has no account). /metrics is refused by address
or token, never by role: the matrix's client comes from 127.0.0.1, which METRICS_ALLOWED_IPS allows by
default, so every role (and anonymous) gets it; tests/ops/test_health_metrics.py checks the refusals.
Neither shows anyone's data.
"""

from __future__ import annotations

from ..table import R, by, g, plain, public

# Background exports (core.export_jobs): only the requester sees one, whatever the role (A's was asked for
# by 路桥's finance center, C's by 椒江's): 404 for everyone else, the superuser too.
EXPORT_JOB = dict(fc="ok nf", su="nf")

TABLE = {
    "export-job": R(by("exportjob"), get=g("A C", default="nf", **EXPORT_JOB)),
    "export-file": R(by("exportjob"), get=g("A C", default="nf", **EXPORT_JOB)),
    "readyz": R(plain(), get=public(), public=True),
    "metrics": R(plain(), get=public(), public=True),
}
