"""The page shell (issue #12): the scripts' translation catalogue answers everyone, like the pages'
language switch (the public pages load it too)."""

from __future__ import annotations

from ..table import R, plain, public

TABLE = {
    "javascript-catalog": R(plain(), get=public(), public=True),
}
