"""The reconciler behind `kg link`: propose Wikidata ids for candidates, keep a curator's decisions, apply them.

Entities come from a Wikidata JSON dump (one entity per line, optionally .gz or .bz2) or from the live API
(wbsearchentities, wbgetentities). Each proposal has a score (0-100) and the reasons for it. Proposals go to a
review file (TSV) where a curator sets each decision to accepted or rejected; only accepted links are written to
the links file that the wikidata graph loads, and a later run keeps every decision already made.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from rdflib import Dataset

from kg.errors import KGError
from kg.namespaces import KG, compact
from kg.query import run
from kg.wikidata import DATE_PROPERTIES, ITEM_ID, VERIFIED_ITEMS, Candidate, candidates, links

DEFAULT_API = "https://www.wikidata.org/w/api.php"
USER_AGENT = "morocco-ct-kg/0.1 (https://w3id.org/morocco-ct-kg; kg link)"
DECISIONS = ("candidate", "accepted", "rejected")
REVIEW_COLUMNS = ("candidate", "candidate_label", "proposed", "proposed_label", "score", "reasons", "decision")
MIN_SCORE = 40
PER_CANDIDATE = 3


class LinkError(KGError):
    """A dump, review file or API answer the reconciler cannot use."""


# Wikidata entities ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """What the reconciler compares of a Wikidata item."""

    id: str
    labels: dict[str, str]
    aliases: dict[str, tuple[str, ...]]
    classes: tuple[str, ...]
    countries: tuple[str, ...]
    dates: tuple[str, ...]
    enwiki: str | None

    @classmethod
    def from_json(cls, data: dict) -> Entity:
        """Read an entity in Wikidata's JSON format (dumps and wbgetentities answer alike)."""
        claims = data.get("claims") or {}
        return cls(
            id=data["id"],
            labels={lang: v["value"] for lang, v in (data.get("labels") or {}).items()},
            aliases={lang: tuple(a["value"] for a in values) for lang, values in (data.get("aliases") or {}).items()},
            classes=_item_values(claims.get("P31")),
            countries=_item_values(claims.get("P17")),
            dates=tuple(d for p in DATE_PROPERTIES for d in _time_values(claims.get(p))),
            enwiki=((data.get("sitelinks") or {}).get("enwiki") or {}).get("title"),
        )

    @property
    def label(self) -> str:
        return self.labels.get("en") or self.labels.get("fr") or next(iter(self.labels.values()), self.id)

    def names(self) -> Iterator[tuple[str, str, str]]:
        """(kind, language, text) for every label and alias."""
        for lang, text in sorted(self.labels.items(), key=lambda item: item[0] != "en"):
            yield "label", lang, text
        for lang, texts in self.aliases.items():
            for text in texts:
                yield "alias", lang, text


def _values(statements) -> Iterator:
    for statement in statements or ():
        snak = statement.get("mainsnak") or {}
        if statement.get("rank") != "deprecated" and snak.get("snaktype") == "value":
            yield snak["datavalue"]["value"]


def _item_values(statements) -> tuple[str, ...]:
    return tuple(v["id"] for v in _values(statements) if isinstance(v, dict) and "id" in v)


def _time_values(statements) -> Iterator[str]:
    """2003-05-16 at day precision (11), 2003-05 at month (10), 2003 at year (9) or coarser."""
    for value in _values(statements):
        text, precision = value["time"].lstrip("+"), value.get("precision", 11)
        yield text[:10] if precision >= 11 else text[:7] if precision == 10 else text[:4]


def read_dump(path: Path) -> Iterator[Entity]:
    """The items of a Wikidata JSON dump: a JSON array with one entity per line, plain, .gz or .bz2."""
    path = Path(path)
    opener = {".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix, open)
    try:
        with opener(path, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                line = line.strip().rstrip(",")
                if line in ("", "[", "]"):
                    continue
                try:
                    data = json.loads(line)
                    if str(data.get("id", "")).startswith("Q"):
                        yield Entity.from_json(data)
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    raise LinkError(f"{path}:{number}: not a Wikidata JSON entity ({exc.__class__.__name__})") from None
    except (OSError, EOFError) as exc:
        raise LinkError(f"{path}: cannot read the dump: {getattr(exc, 'strerror', None) or exc}") from None


# Scoring -------------------------------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """Case, accents, punctuation and underscores ignored: 'Jemaa el-Fnaa' and 'jemaa_el_fnaa' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split())


def _tokens(text: str) -> set[str]:
    return set(normalize(text).split())


def _name(qid: str) -> str:
    return f"{qid} ({VERIFIED_ITEMS[qid]})" if qid in VERIFIED_ITEMS else qid


def score(candidate: Candidate, entity: Entity) -> tuple[int, tuple[str, ...]]:
    """A score from 0 to 100 and its reasons: Wikipedia title, label or alias, type, country, dates."""
    points, reasons = 0, []
    if candidate.enwiki and entity.enwiki:
        if normalize(candidate.enwiki) == normalize(entity.enwiki):
            points += 50
            reasons.append(f"+50 English Wikipedia title '{entity.enwiki}'")
        else:
            points -= 10
            reasons.append(f"-10 English Wikipedia title '{entity.enwiki}', expected '{candidate.enwiki}'")

    best_gain, best_reason = 0, ""  # the strongest name match; the first found wins a tie (English labels first)
    for text, _ in candidate.labels:
        for kind, lang, name in entity.names():
            if normalize(text) == normalize(name):
                gain = 30 if kind == "label" else 20
                reason = f"+{gain} {kind} '{name}'@{lang} matches '{text}'"
            elif (overlap := _jaccard(text, name)) >= 0.5:
                gain = round(15 * overlap)
                reason = f"+{gain} {kind} '{name}'@{lang} shares {overlap:.0%} of the words of '{text}'"
            else:
                continue
            if gain > best_gain:
                best_gain, best_reason = gain, reason
    if best_gain:
        points += best_gain
        reasons.append(best_reason)

    for what, expected, found, gain in (("type: instance of", candidate.classes, entity.classes, 15),
                                        ("country", candidate.countries, entity.countries, 10)):
        if expected and found:
            shared = sorted(set(expected) & set(found))
            if shared:
                points += gain
                reasons.append(f"+{gain} {what} {', '.join(map(_name, shared))}")
            else:
                points -= 25
                reasons.append(f"-25 {what} {', '.join(map(_name, found))}, "
                               f"expected {' or '.join(map(_name, expected))}")
    if candidate.dates and entity.dates:
        exact = sorted(set(candidate.dates) & set(entity.dates))
        years = sorted({d[:4] for d in candidate.dates} & {d[:4] for d in entity.dates})
        if exact and len(exact[0]) == 10:
            points += 15
            reasons.append(f"+15 date {exact[0]}")
        elif years:
            points += 10
            reasons.append(f"+10 year {years[0]}")
        else:
            points -= 15
            reasons.append(f"-15 date {', '.join(entity.dates)}, expected {', '.join(candidate.dates)}")
    return max(0, min(100, points)), tuple(reasons)


def _jaccard(a: str, b: str) -> float:
    left, right = _tokens(a), _tokens(b)
    return len(left & right) / len(left | right) if left and right else 0.0


# Proposals and the review file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """One row of the review file."""

    candidate: str  # the candidate's IRI
    candidate_label: str
    proposed: str  # a Q-id
    proposed_label: str
    score: int
    reasons: tuple[str, ...]
    decision: str = "candidate"

    def key(self) -> tuple[str, str]:
        return self.candidate, self.proposed


def _keys(candidate: Candidate) -> set[str]:
    keys = {normalize(text) for text, _ in candidate.labels}
    if candidate.enwiki:
        keys.add(normalize(candidate.enwiki))
    return keys - {""}


def _entity_keys(entity: Entity) -> set[str]:
    keys = {normalize(text) for _, _, text in entity.names()}
    if entity.enwiki:
        keys.add(normalize(entity.enwiki))
    return keys


def propose(
    found: Iterable[Candidate], entities: Iterable[Entity], min_score: int = MIN_SCORE, limit: int = PER_CANDIDATE
) -> list[Proposal]:
    """Score every entity that shares a label, alias or Wikipedia title with a candidate; keep the best few.

    One pass over `entities`, so a full dump streams through without being held in memory.
    """
    found = list(found)
    by_key: dict[str, list[Candidate]] = {}
    for candidate in found:
        for key in _keys(candidate):
            by_key.setdefault(key, []).append(candidate)
    scored: dict[str, list[Proposal]] = {c.iri: [] for c in found}
    for entity in entities:
        matched = {c.iri: c for key in _entity_keys(entity) for c in by_key.get(key, ())}
        for candidate in matched.values():
            points, reasons = score(candidate, entity)
            if points >= min_score:
                scored[candidate.iri].append(
                    Proposal(candidate.iri, candidate.label, entity.id, entity.label, points, reasons)
                )
    result = []
    for iri in sorted(scored):
        best = sorted(scored[iri], key=lambda p: (-p.score, int(p.proposed[1:])))
        result += best[:limit]
    return result


def read_review(path: Path) -> list[Proposal]:
    """The rows of a review file; a wrong decision or id is reported with its line."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t")
            if tuple(reader.fieldnames or ()) != REVIEW_COLUMNS:
                raise LinkError(f"{path}:1: the header must be: {' '.join(REVIEW_COLUMNS)}")
            for row in reader:
                line = reader.line_num
                decision = (row["decision"] or "").strip()
                if decision not in DECISIONS:
                    raise LinkError(
                        f"{path}:{line}: decision must be candidate, accepted or rejected, not {decision!r}"
                    )
                proposed = (row["proposed"] or "").strip()
                if not ITEM_ID.fullmatch(proposed):
                    raise LinkError(f"{path}:{line}: {proposed!r} is not a Wikidata item id (Q followed by digits)")
                try:
                    points = int(row["score"])
                except (TypeError, ValueError):
                    raise LinkError(f"{path}:{line}: score must be an integer, not {row['score']!r}") from None
                rows.append(Proposal(
                    candidate=_expand(row["candidate"].strip()),
                    candidate_label=row["candidate_label"],
                    proposed=proposed,
                    proposed_label=row["proposed_label"],
                    score=points,
                    reasons=tuple(r for r in (row["reasons"] or "").split("; ") if r),
                    decision=decision,
                ))
    except OSError as exc:
        raise LinkError(f"{path}: {exc.strerror}") from None
    return rows


def _expand(name: str) -> str:
    return str(KG) + name[3:] if name.startswith("kg:") else name


def merge(earlier: list[Proposal], fresh: list[Proposal]) -> list[Proposal]:
    """Fresh scores and reasons, earlier decisions: a decided row keeps its decision; no row is dropped."""
    rows = {p.key(): p for p in earlier}
    for proposal in fresh:
        before = rows.get(proposal.key())
        rows[proposal.key()] = replace(proposal, decision=before.decision) if before else proposal
    return sorted(rows.values(), key=lambda p: (p.candidate, -p.score, p.proposed))


def write_review(path: Path, rows: list[Proposal]) -> None:
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(REVIEW_COLUMNS)
        for p in rows:
            writer.writerow([compact(p.candidate), p.candidate_label, p.proposed, p.proposed_label, p.score,
                             "; ".join(p.reasons), p.decision])


def accepted(rows: list[Proposal], dataset: Dataset) -> dict[str, str]:
    """The accepted links, checked: one item per candidate, one candidate per item, no clash with a verified link."""
    known = {str(c) for (c,) in run(dataset, "SELECT ?c WHERE { ?c ct:wikidataCandidate true }")}
    verified = {iri: qid for iri, qid in links(dataset).items() if iri not in known}  # wikidata.ttl's own links
    chosen: dict[str, str] = {}
    for p in rows:
        if p.decision != "accepted":
            continue
        if p.candidate not in known:
            raise LinkError(f"accepted link for {compact(p.candidate)}, which is not a candidate to link")
        if chosen.get(p.candidate, p.proposed) != p.proposed:
            raise LinkError(f"{compact(p.candidate)} has two accepted ids: {chosen[p.candidate]} and {p.proposed}")
        chosen[p.candidate] = p.proposed
    owners: dict[str, str] = {}
    for iri, qid in sorted(chosen.items()):
        if qid in owners:
            raise LinkError(f"{qid} is accepted for both {compact(owners[qid])} and {compact(iri)}")
        owners[qid] = iri
    for iri, qid in verified.items():
        if qid in owners and owners[qid] != iri:
            raise LinkError(f"{qid} is accepted for {compact(owners[qid])} but already linked to {compact(iri)}")
    return chosen


ACCEPTED_HEADER = """\
# Generated by `kg link` from {review}: the links a curator accepted in review. Do not edit by hand;
# change the decision in the review file and run `kg link` again. Loaded into the wikidata graph.

@prefix kg: <https://w3id.org/morocco-ct-kg/id/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix wd: <http://www.wikidata.org/entity/> .
"""


def write_accepted(path: Path, chosen: dict[str, str], review_name: str) -> None:
    lines = [ACCEPTED_HEADER.format(review=review_name)]
    lines += [f"{compact(iri)} skos:exactMatch wd:{qid} ." for iri, qid in sorted(chosen.items())]
    Path(path).write_text("\n".join(lines) + ("\n" if len(lines) > 1 else ""), encoding="utf-8")


# The live API --------------------------------------------------------------------------------------------------


class WikidataApi:
    """A small client for the Wikidata action API with bounded retries.

    HTTP 429 and 5xx answers and `maxlag` errors are retried at most `max_retries` times, waiting as long as
    Retry-After says (or 1, 2, 4... seconds without it); a wait longer than `max_wait` is an error, not a nap.
    """

    def __init__(self, url: str = DEFAULT_API, *, timeout: float = 10.0, max_retries: int = 3, maxlag: int = 5,
                 max_wait: float = 60.0, sleep: Callable[[float], None] = time.sleep):
        self.url, self.timeout, self.max_retries = url, timeout, max_retries
        self.maxlag, self.max_wait, self.sleep = maxlag, max_wait, sleep

    def get(self, **params: str) -> dict:
        params = {**params, "format": "json", "maxlag": str(self.maxlag)}
        action = params.get("action", "?")
        request = Request(f"{self.url}?{urlencode(params)}", headers={"User-Agent": USER_AGENT})
        for attempt in range(self.max_retries + 1):
            problem, wait = self._attempt(request, action)
            if isinstance(problem, dict):
                return problem
            if attempt == self.max_retries:
                raise LinkError(f"{problem}; gave up after {attempt + 1} attempt{'s' if attempt else ''}")
            wait = 2.0 ** attempt if wait is None else wait
            if wait > self.max_wait:
                raise LinkError(f"{problem}; asked to wait {wait:g} s, more than the {self.max_wait:g} s allowed")
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _attempt(self, request: Request, action: str) -> tuple[dict | str, float | None]:
        """The decoded answer, or (why it failed and may be retried, the wait asked for)."""
        try:
            with urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except HTTPError as exc:
            wait = _retry_after(exc.headers.get("Retry-After"))
            if exc.code == 429 or exc.code >= 500:
                return f"{self.url}: HTTP {exc.code} to {action}", wait
            raise LinkError(f"{self.url}: HTTP {exc.code} {exc.reason} to {action}") from None
        except (URLError, TimeoutError, ConnectionError) as exc:
            return f"{self.url}: cannot reach the API ({getattr(exc, 'reason', None) or exc})", None
        try:
            data = json.loads(body)
        except ValueError:
            raise LinkError(f"{self.url}: malformed JSON in the answer to {action}") from None
        if not isinstance(data, dict):
            raise LinkError(f"{self.url}: unexpected answer to {action}: not a JSON object")
        error = data.get("error")
        if isinstance(error, dict):
            if error.get("code") == "maxlag":
                return f"{self.url}: replication lag ({error.get('lag', '?')} s, maxlag)", float(error.get("lag") or 1)
            raise LinkError(f"{self.url}: API error {error.get('code')}: {error.get('info', '')}".rstrip())
        return data, None

    def search(self, text: str, language: str, limit: int = 5) -> list[str]:
        data = self.get(action="wbsearchentities", search=text, language=language, uselang=language,
                        type="item", limit=str(limit))
        return [hit["id"] for hit in data.get("search", []) if ITEM_ID.fullmatch(str(hit.get("id", "")))]

    def entities(self, ids: list[str] | None = None, *, enwiki: str | None = None) -> list[Entity]:
        params = {"action": "wbgetentities", "props": "labels|aliases|claims|sitelinks", "languages": "en|fr",
                  "sitefilter": "enwiki"}
        if enwiki is not None:
            params |= {"sites": "enwiki", "titles": enwiki}
        else:
            params["ids"] = "|".join(ids or ())
        data = self.get(**params)
        try:
            return [Entity.from_json(e) for key, e in sorted(data.get("entities", {}).items())
                    if "missing" not in e and ITEM_ID.fullmatch(key)]
        except (KeyError, TypeError, AttributeError) as exc:
            raise LinkError(f"{self.url}: unexpected entity in the answer to wbgetentities ({exc!r})") from None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def online_entities(api: WikidataApi, found: list[Candidate]) -> Iterator[Entity]:
    """The items the API finds for the candidates: by English Wikipedia title, then by label search."""
    seen: set[str] = set()
    for candidate in found:
        ids: list[str] = []
        if candidate.enwiki:
            for entity in api.entities(enwiki=candidate.enwiki):
                if entity.id not in seen:
                    seen.add(entity.id)
                    yield entity
        for text, lang in candidate.labels:
            ids += [i for i in api.search(text, lang if lang in ("en", "fr") else "en") if i not in seen | set(ids)]
        for start in range(0, len(ids), 50):
            for entity in api.entities(ids[start:start + 50]):
                seen.add(entity.id)
                yield entity


# The whole run -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkReport:
    candidates: int
    proposals: int
    new: int
    accepted: int
    rejected: int


def link(dataset: Dataset, entities: Callable[[list[Candidate]], Iterable[Entity]] | None, review: Path,
         accepted_path: Path, min_score: int = MIN_SCORE) -> LinkReport:
    """Propose links from `entities` (None: only apply the review file), merge them into the review file, and
    write the accepted ones to `accepted_path`."""
    found = candidates(dataset)
    earlier = read_review(review)
    fresh = propose(found, entities(found), min_score) if entities is not None else []
    rows = merge(earlier, fresh)
    chosen = accepted(rows, dataset)
    if entities is not None:
        write_review(review, rows)
    write_accepted(accepted_path, chosen, Path(review).name)
    old = {p.key() for p in earlier}
    return LinkReport(
        candidates=len(found),
        proposals=len(fresh),
        new=sum(1 for p in fresh if p.key() not in old),
        accepted=sum(1 for p in rows if p.decision == "accepted"),
        rejected=sum(1 for p in rows if p.decision == "rejected"),
    )
