"""How the pages show an RDF term (a SPARQL JSON binding): a prefixed name, where it links to, a discreet note.

Our own IRIs (kg:, ct:) link to their pages on this server, under PUBLIC_BASE when it is set; Wikidata items to
their Wikidata page; other http(s) IRIs to themselves. static/query.js applies the same rules in the browser.
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.namespaces import CT, KG, WD, XSD, compact

ONTOLOGY_IRI = str(CT).rstrip("#")


@dataclass(frozen=True)
class Shown:
    text: str
    href: str | None = None
    note: str = ""  # a literal's language or datatype
    kind: str = "iri"  # iri, bnode or literal
    iri: str = ""


def link(iri: str, base: str = "") -> str | None:
    """Where a page links `iri` to; None for a scheme that is not http(s)."""
    base = base.rstrip("/")
    if iri.startswith(str(KG)):
        return f"{base}/id/{iri[len(KG):]}"
    if iri == ONTOLOGY_IRI:
        return f"{base}/ontology"
    if iri.startswith(str(CT)):
        return f"{base}/ontology#{iri[len(CT):]}"
    if iri.startswith(str(WD)):
        local = iri[len(WD):]
        return "https://www.wikidata.org/wiki/" + (f"Property:{local}" if local.startswith("P") else local)
    return iri if iri.lower().startswith(("http://", "https://")) else None


def show(binding: dict | None, base: str = "") -> Shown:
    """The presentation of one SPARQL JSON term."""
    if binding is None:
        return Shown("", kind="literal")
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return Shown(compact(value), link(value, base), iri=value)
    if kind == "bnode":
        return Shown(f"_:{value}", kind="bnode")
    datatype = binding.get("datatype", "")
    note = "@" + binding["xml:lang"] if "xml:lang" in binding else ""
    if datatype and datatype != str(XSD.string) and not note:
        note = compact(datatype)
    return Shown(value, note=note, kind="literal")
