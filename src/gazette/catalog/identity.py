"""Ids that never change, unique URL-safe slugs, and matching a draft to its record.

A post keeps its id for life: an explicit ``id`` when the source gives one, otherwise a
tag URI (RFC 4151) minted the first time the post is seen and stored from then on.
A later run finds the record by id, explicit slug, title, date and title, or date and
body, so a corrected title keeps the id. Chinese titles are read as words (pypinyin's
phrase data, see gazette.pinyin), so 两万 is ``liang-wan``; a record made when slugs were
read character by character keeps its slug, and is found by its title as before.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import quote

from slugify import slugify

from gazette.catalog.draft import Draft
from gazette.catalog.tables import PostKey
from gazette.config import SiteSettings
from gazette.pinyin import Reader, readings_elsewhere

SLUG_MAX_LENGTH = 60
_SCRIPT_BOUNDARY = re.compile(r"(?<=[A-Za-z0-9])(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])(?=[A-Za-z0-9])")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_READINGS: dict[str, str] = {}  # a title's pinyin, as gazette.pinyin read it


def body_hash(body: str) -> str:
    """The body's fingerprint, blind to whitespace differences between sources: each run
    of whitespace counts as one space, and none at the ends (records keep this hash)."""
    return hashlib.sha256(" ".join(body.split()).encode()).hexdigest()


EMPTY_BODY = body_hash("")  # the hash of a body with no text (whitespace only included)


def make_slug(text: str) -> str:
    """Lowercase ASCII words joined by hyphens; Chinese is read as words in pinyin."""
    if not _HAN.search(text):
        return _slugify(text)
    read_titles([text])
    return _slugify(_READINGS[text])


def read_titles(titles: list[str], offered: Reader | None = None) -> None:
    """Reads the Chinese of many titles at once, ahead of make_slug, in a process of its
    own (gazette.pinyin), so pypinyin's data stays out of this one; first takes the
    readings of the titles ``offered`` has been reading meanwhile."""
    if offered is not None:
        _READINGS.update(offered.collect())
    wanted = titles_to_read(titles)
    if wanted:
        _READINGS.update(zip(wanted, readings_elsewhere(wanted), strict=True))


def titles_to_read(titles: Iterable[str]) -> list[str]:
    """Those of ``titles`` whose Chinese make_slug has not read yet, each once."""
    return list(dict.fromkeys(t for t in titles if t not in _READINGS and _HAN.search(t)))


def legacy_slug(text: str) -> str:
    """The slug older releases made, reading each Chinese character on its own."""
    return _slugify(text)


def _slugify(text: str) -> str:
    # Keep "Transformer升级" from transliterating into one word "transformersheng".
    text = _SCRIPT_BOUNDARY.sub(" ", text)
    slug = slugify(text, max_length=SLUG_MAX_LENGTH, word_boundary=True, save_order=True)
    return slug or "post"


def mint_id(authority: str, published: datetime, slug: str) -> str:
    """A tag URI: the site's host, the day the post was published, and its slug."""
    return f"tag:{authority},{published:%Y-%m-%d}:{slug}"


def post_url(site: SiteSettings, post_id: str, slug: str, published: datetime) -> str:
    path = site.post_url.format(
        slug=slug,
        id=quote(post_id, safe=""),
        year=f"{published:%Y}",
        month=f"{published:%m}",
        day=f"{published:%d}",
    )
    return path if re.match(r"^https?://", path) else site.url + path.lstrip("/")


def dated_when_first_seen(
    drafts: list[Draft], hashes: list[str], keys: list[PostKey], now: datetime
) -> list[Draft]:
    """Drafts with no date (feed entries) take the date their record was first given, or
    ``now`` when they are new: a feed reader dates an undated entry when it first sees it.
    ``hashes`` are the drafts' body hashes (a stored draft's body is not loaded)."""
    if all(d.published is not None or not d.date_inferred for d in drafts):
        return drafts
    by_id = {key.id: key.published for key in keys}
    by_text = {(key.title, key.body_hash): key.published for key in keys}

    def dated(draft: Draft, hashed: str) -> Draft:
        if draft.published is not None or not draft.date_inferred:
            return draft
        known = by_id.get(draft.id) or by_text.get((draft.title, hashed))
        return replace(draft, published=datetime.fromisoformat(known) if known else now)

    return [dated(draft, hashed) for draft, hashed in zip(drafts, hashes, strict=True)]


@dataclass
class RecordIndex:
    """Stored posts by each key a draft may be matched on (several records may share one)."""

    by_id: dict[str, PostKey] = field(default_factory=dict)
    by_slug: dict[str, PostKey] = field(default_factory=dict)
    by_title: dict[str, PostKey] = field(default_factory=dict)
    by_date_title: dict[tuple[str, str], list[PostKey]] = field(default_factory=dict)
    by_date_body: dict[tuple[str, str], list[PostKey]] = field(default_factory=dict)
    claimed: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, keys: list[PostKey]) -> RecordIndex:
        index = cls()
        # Present records come before removed ones that share a key.
        for key in sorted(keys, key=lambda k: k.removed):
            index.by_id[key.id] = key
            index.by_slug.setdefault(key.slug, key)
            index.by_title.setdefault(key.title, key)
            index.by_date_title.setdefault((key.published[:10], key.title), []).append(key)
            index.by_date_body.setdefault((key.published[:10], key.body_hash), []).append(key)
        return index

    def match_all(self, wanted: list[tuple[Draft, str, str]]) -> list[PostKey | None]:
        """The record each (draft, body hash, explicit slug or "") continues, or None for a
        new post.

        Certain matches go first (explicit id or slug, or the same date, title and body),
        so that an edited post can never take the record of one that did not change.
        """
        found: list[PostKey | None] = [self._certain(*item) for item in wanted]
        for position, item in enumerate(wanted):
            if found[position] is None:
                found[position] = self._edited(*item)
        return found

    def _certain(self, draft: Draft, hashed: str, slug: str) -> PostKey | None:
        if draft.id:
            return self._claim([self.by_id.get(draft.id)])
        if draft.slug:
            return self._claim([self.by_slug.get(draft.slug)])
        same = [
            k for k in self.by_date_body.get((_day(draft), hashed), []) if k.title == draft.title
        ]
        return self._claim(same)

    def _edited(self, draft: Draft, hashed: str, slug: str) -> PostKey | None:
        """A post whose title or body changed: by title, date and title, or date and body.

        An inferred title is a guess, so it is not evidence of identity.
        """
        if draft.id:
            return None
        candidates: list[PostKey | None] = []
        if not draft.title_inferred:
            if not draft.slug:
                # The record with this title on any day: the one its slug was made from
                # (whichever way an older release read its Chinese).
                candidates.append(self.by_title.get(draft.title))
            candidates.extend(self.by_date_title.get((_day(draft), draft.title), []))
        candidates.extend(self.by_date_body.get((_day(draft), hashed), []))
        return self._claim(candidates)

    def _claim(self, candidates: Sequence[PostKey | None]) -> PostKey | None:
        for candidate in candidates:
            if candidate is not None and candidate.id not in self.claimed:
                self.claimed.add(candidate.id)
                return candidate
        return None


def _day(draft: Draft) -> str:
    assert draft.published is not None
    return draft.published.date().isoformat()


class SlugRegistry:
    """Hands out unique slugs: the first post keeps ``name``, later ones get ``name-2``;
    none that ``taken_before`` says is taken already."""

    def __init__(self, taken_before: Callable[[str], bool] = lambda slug: False) -> None:
        self.taken: set[str] = set()
        self.taken_before = taken_before

    def unique(self, slug: str) -> str:
        candidate, number = slug, 2
        while candidate in self.taken or self.taken_before(candidate):
            candidate = f"{slug}-{number}"
            number += 1
        self.taken.add(candidate)
        return candidate
