"""JSON Lines: reads back what ``gazette posts --json`` writes, keeping every field."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from gazette.catalog.draft import Draft, ReadResult
from gazette.catalog.limits import TooDeep, load_json
from gazette.models import Figure, Finding, Post

REQUIRED = ("title", "published", "content_html")  # content_html may be empty, not absent


def read_jsonl(text: str, path: str) -> ReadResult:
    result = ReadResult()
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        location = f"{path}:{number}"
        try:
            result.drafts.append(_draft(load_json(line), location))
        except json.JSONDecodeError as error:
            result.findings.append(
                Finding(
                    "error",
                    f"not JSON ({error.msg} at column {error.colno}); fix the line",
                    location,
                )
            )
        except TooDeep as error:
            result.findings.append(Finding("error", f"the record is {error}", location))
        except (KeyError, TypeError, ValueError) as error:
            result.findings.append(Finding("error", f"{error}; fix the record", location))
    return result


def _draft(record: Any, location: str) -> Draft:
    if not isinstance(record, dict):
        raise TypeError("each line must be one JSON object")
    missing = [
        key
        for key in REQUIRED
        if record.get(key) is None or (key != "content_html" and not record[key])
    ]
    if missing:
        raise KeyError(f"missing {', '.join(missing)}")
    published = _datetime(record["published"], "published")
    updated = _datetime(record.get("updated") or record["published"], "updated")
    figures = tuple(
        Figure(str(f.get("caption", "")), str(f.get("src", "")))
        for f in _objects(record, "figures")
    )
    sources = tuple(str(s) for s in record.get("sources") or [location])
    rendered = Post(
        id=str(record.get("id", "")),
        slug=str(record.get("slug", "")),
        url=str(record.get("url", "")),
        title=str(record["title"]),
        published=published,
        updated=updated,
        summary_html=str(record.get("summary_html", "")),
        summary_text=str(record.get("summary_text", "")),
        content_html=str(record["content_html"]),
        content_text=str(record.get("content_text", "")),
        title_inferred=bool(record.get("title_inferred", False)),
        figures=figures,
        sources=sources,
        warnings=tuple(str(w) for w in record.get("warnings", [])),
    )
    return Draft(
        location=location,
        title=rendered.title,
        body=rendered.content_html,
        markup="html",
        published=published,
        updated=updated,
        summary=rendered.summary_html,
        title_inferred=rendered.title_inferred,
        tags=tuple(str(t) for t in record.get("tags", [])),
        authors=tuple(str(a) for a in record.get("authors") or []),
        series=str(record.get("series") or ""),
        series_index=_index(record.get("series_index")),
        slug=rendered.slug,
        id=rendered.id,
        lang=str(record.get("lang", "")),
        warnings=rendered.warnings,
        rendered=rendered,
    )


def _objects(record: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = record.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise TypeError(f"{key} must be a list of objects")
    return value


def _datetime(value: Any, key: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{key} {value!r} is not an RFC 3339 date") from None
    if parsed.tzinfo is None:
        raise ValueError(
            f"{key} {value!r} has no UTC offset; write it as 2024-05-01T08:00:00+08:00"
        )
    return parsed


def _index(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"series_index {value!r} must be a whole number")
    return value
