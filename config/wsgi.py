import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# The masking's segmenter (jieba, about 1 s to load) is loaded here, when a worker starts (or once in
# the master with --preload), not by the first request that shows a warning.
from core.masking import warm_up  # noqa: E402

warm_up()

# The URL tables, the translation catalogues, the templates and the API schema, built now rather
# than by the first requests (core/warmup.py).
from core import warmup  # noqa: E402

warmup.warm_up()
