"""Find Chinese text that does not go through gettext (issue #12, item 2: one language at a time).

Two scanners, used by `tests/test_i18n.py` and runnable by hand to list what is left:

    .venv/bin/python tests/i18n_scan.py [path ...]      # every template and module by default

- Templates: Chinese in the template's own text, outside `{% translate %}` / `{% blocktranslate %}`
  and comments. Values from the database (an institution's name) are not in the template's text and
  are not looked at.
- Python: a string literal holding Chinese that is not inside a gettext call (`_`, `gettext`,
  `gettext_lazy`, `ngettext`, `pgettext`, `gettext_noop`, ...) and is not a docstring. Data that
  must stay Chinese whatever the language (a statute's registered title, name lists of the demo,
  patterns that recognise Chinese text, log lines for operators) is exempted where it is written:
  the comment `# i18n-exempt: <why>` on the literal's line or on the first line of the statement
  that holds it. Whole modules of demo data are listed in `EXEMPT_MODULES`.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
# generated, not source: collected static files and stored files (posters, reports) under the repo
SKIP_DIRS = {".venv", "bench", "tests", "locale", "migrations", "node_modules", "staticfiles", ".git", "media",
             "private_media"}
GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy",
           "npgettext", "npgettext_lazy", "gettext_noop", "pgettext_noop", "_lazy", "format_lazy"}
MARKER = "i18n-exempt:"
TAG_LITERAL = re.compile(r"""(?P<marked>_\()?(?P<q>["'])(?P<text>.*?)(?P=q)""")
# Modules that are data, not interface: the demo's fictional people, institutions and texts (shown
# as they were entered, like any user's data), and the masking rules' Chinese name lists.
EXEMPT_MODULES = {
    "core/masking.py",
    "portal/management/commands/seed_demo.py",
}
EXEMPT_NAMES = {"demo.py"}


def _files(paths, suffix):
    roots = [Path(p) for p in paths] if paths else [ROOT]
    for root in roots:
        root = root if root.is_absolute() else ROOT / root
        candidates = [root] if root.is_file() else sorted(root.rglob(f"*{suffix}"))
        for path in candidates:
            rel = path.relative_to(ROOT)
            if path.suffix == suffix and not SKIP_DIRS.intersection(rel.parts):
                yield path, rel.as_posix()


# Chinese punctuation between translated parts («{% translate "期限" %}：») reads wrong in English.
PUNCTUATION = re.compile(r"[（），：；、。【】“”《》！？]")


def punctuation_hits(paths=()):
    """(file, line, text) for full-width punctuation in template text outside translation tags."""
    return template_hits(paths, PUNCTUATION)


def template_hits(paths=(), pattern=CJK):
    """(file, line, text) for Chinese template text outside translation tags."""
    from django.template.base import Lexer, TokenType

    hits = []
    for path, rel in _files(paths, ".html"):
        inside = None
        for token in Lexer(path.read_text(encoding="utf-8")).tokenize():
            if token.token_type in (TokenType.BLOCK, TokenType.VAR) and not inside:
                name = (token.contents.split() or [""])[0]
                # A literal inside a tag or variable ({{ d|date:"Y年n月j日" }}, with title="…") is
                # text too, unless it is the tag's own message or wrapped as _("…").
                if name not in ("translate", "trans", "blocktranslate", "blocktrans"):
                    for literal in TAG_LITERAL.finditer(token.contents):
                        if pattern.search(literal.group("text")) and not literal.group("marked"):
                            hits.append((rel, token.lineno or 0, token.contents.strip()[:80]))
            if token.token_type == TokenType.BLOCK:
                name = (token.contents.split() or [""])[0]
                if name in ("blocktranslate", "blocktrans", "comment"):
                    inside = name
                elif name in ("endblocktranslate", "endblocktrans", "endcomment"):
                    inside = None
                continue
            if not inside and token.token_type == TokenType.TEXT and pattern.search(token.contents):
                for offset, line in enumerate(token.contents.splitlines()):
                    if pattern.search(line):
                        hits.append((rel, (token.lineno or 0) + offset, line.strip()[:80]))
    return hits


def _exempt_lines(source: str, tree: ast.AST) -> set[int]:
    lines = source.splitlines()
    marked = {n for n, text in enumerate(lines, 1) if MARKER in text}
    exempt = set(marked)
    for node in ast.walk(tree):  # a marker on a statement's first line covers the whole statement
        if isinstance(node, ast.stmt) and node.lineno in marked and not isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            exempt.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return exempt


def python_hits(paths=()):
    """(file, line, text) for Chinese string literals outside gettext calls."""
    hits = []
    for path, rel in _files(paths, ".py"):
        if rel in EXEMPT_MODULES or path.name in EXEMPT_NAMES:
            continue
        source = path.read_text(encoding="utf-8")
        if not CJK.search(source):
            continue
        tree = ast.parse(source)
        covered: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in GETTEXT:
                    covered.update(id(inner) for inner in ast.walk(node))
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                first = node.body[0] if node.body else None
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    covered.add(id(first.value))
        exempt = _exempt_lines(source, tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and CJK.search(node.value)
                    and id(node) not in covered and node.lineno not in exempt):
                hits.append((rel, node.lineno, node.value.strip()[:80]))
    return sorted(hits)


EAGER = {"gettext", "ngettext", "pgettext", "npgettext"}


def eager_hits(paths=()):
    """(file, line, text) for a non-lazy gettext call run at import time (module or class body, a
    default argument): it is translated once, in the language active when the module was imported,
    and every later reader gets that language. Such places need `gettext_lazy`."""
    hits = []
    for path, rel in _files(paths, ".py"):
        source = path.read_text(encoding="utf-8")
        if "gettext" not in source:
            continue
        tree = ast.parse(source)
        eager = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                eager.update(a.asname or a.name for a in node.names if a.name in EAGER)

        def visit(body):
            for stmt in body:
                if isinstance(stmt, ast.ClassDef):
                    visit(stmt.body)
                    continue
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    parts = [*stmt.args.defaults, *stmt.args.kw_defaults, *stmt.decorator_list]
                else:
                    parts = [stmt]
                for part in parts:
                    for node in ast.walk(part) if part is not None else ():
                        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                                and node.func.id in eager and not _inside_lambda(part, node)):
                            arg = node.args[0] if node.args else None
                            text = arg.value if isinstance(arg, ast.Constant) else ast.unparse(node)
                            hits.append((rel, node.lineno, str(text)[:80]))

        visit(tree.body)
    return sorted(hits)


def _inside_lambda(root, target) -> bool:
    for node in ast.walk(root):
        if (isinstance(node, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)) and node is not root
                and any(inner is target for inner in ast.walk(node))):
            return True
    return False


def main(argv):
    import django

    sys.path.insert(0, str(ROOT))
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    hits = [*template_hits(argv), *python_hits(argv),
            *((f, n, f"punctuation: {t}") for f, n, t in punctuation_hits(argv)),
            *((f, n, f"eager gettext: {t}") for f, n, t in eager_hits(argv))]
    for rel, line, text in hits:
        print(f"{rel}:{line}: {text}")
    print(f"{len(hits)} unmarked", file=sys.stderr)
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
