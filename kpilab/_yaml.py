"""Read YAML files with kpilab's error wording, refusing duplicated keys.

PyYAML's loaders accept a mapping that repeats a key and keep the last value,
so ``direction: lower`` followed by ``direction: higher`` silently flips an
indicator. Every YAML file kpilab reads (framework, column mapping, run
parameters, AHP pairwise comparisons) goes through :func:`parse_yaml`, which
raises naming both lines instead, and reports syntax errors with the file,
line and column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kpilab.errors import KpilabError

__all__ = ["UniqueKeyLoader", "UniqueKeyNoDatesLoader", "DuplicateKeyError", "parse_yaml", "read_yaml_mapping"]


class DuplicateKeyError(yaml.YAMLError):
    """A mapping repeats a key (carries both line numbers, 1-based)."""

    def __init__(self, key: Any, first_line: int, second_line: int) -> None:
        super().__init__(f"key {key!r} appears twice (line {first_line} and line {second_line})")
        self.key, self.first_line, self.second_line = key, first_line, second_line


# libyaml's parser when PyYAML was built with it: the framework file parses ~5x faster; the safe
# constructor (and our duplicate-key check) is the same Python code either way.
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UniqueKeyLoader(_SafeBase):  # type: ignore[misc, valid-type]
    """``yaml.SafeLoader`` that raises :class:`DuplicateKeyError` on a repeated mapping key."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue  # PyYAML raises its own error for unhashable keys below
            line = key_node.start_mark.line + 1
            if key in seen:
                raise DuplicateKeyError(key, seen[key], line)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, UniqueKeyLoader.construct_mapping)


class UniqueKeyNoDatesLoader(UniqueKeyLoader):
    """:class:`UniqueKeyLoader` that keeps dates as strings (papermill issue #345)."""


UniqueKeyNoDatesLoader.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str, label: str, what: str, error: type[KpilabError], *, dates: bool = True) -> Any:
    """Parse YAML ``text``; errors are one line naming ``what`` ``label``, the line and the column.

    Parameters
    ----------
    text : str
        The YAML document.
    label : str
        The file name used in messages.
    what : str
        What the file is ("Framework file").
    error : type of KpilabError
        The error raised on duplicated keys or bad syntax.
    dates : bool, default True
        Parse unquoted dates as dates (False keeps them as strings).

    Raises
    ------
    KpilabError
        Of type ``error``.
    """
    loader = UniqueKeyLoader if dates else UniqueKeyNoDatesLoader
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 (SafeLoader subclass)
    except DuplicateKeyError as exc:
        raise error(f"{what} {label}: key {exc.key!r} appears twice (line {exc.first_line} and line "
                    f"{exc.second_line}); keep one.") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
        raise error(f"{what} {label} is not valid YAML{where}: {problem}.") from None
    except yaml.YAMLError as exc:
        raise error(f"{what} {label} is not valid YAML: {' '.join(str(exc).split())}.") from None


def read_yaml_mapping(path: str | Path, what: str, error: type[KpilabError], hint: str = "") -> dict[str, Any]:
    """Parse ``path`` as YAML and return the top-level mapping.

    ``what`` names the file in messages ("Framework file"); ``error`` is the
    KpilabError subclass to raise when the file is missing, not YAML (with the
    line and column), repeats a key (with both lines) or is not a mapping;
    ``hint`` is appended to the "missing" message.
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} {path} does not exist." + (f" {hint}" if hint else ""))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None
    data = parse_yaml(text, str(path), what, error)
    if not isinstance(data, dict):
        raise error(f"{what} {path} must hold a mapping at the top level.")
    return data
