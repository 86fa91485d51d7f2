"""The inference modes, in one table: the name a request asks for, a label for people, the SPARQL 1.1 entailment
regime it answers under and the reasoning profile that makes its closure (none for asserted triples only).

Kept apart from `kg.reason` so that the web layer can describe the modes without importing a reasoner.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import URIRef

ENTAILMENT_NS = "http://www.w3.org/ns/entailment/"


@dataclass(frozen=True)
class Mode:
    """One inference mode: `profile` None means asserted triples only; `entailment_profile` is the OWL 2 profile IRI
    (sd:supportedEntailmentProfile) when the regime needs one."""

    name: str
    label: str
    regime: URIRef
    profile: str | None
    entailment_profile: URIRef | None = None


MODES: tuple[Mode, ...] = (
    Mode("none", "none (asserted triples)", URIRef(ENTAILMENT_NS + "Simple"), None),
    Mode("owl-rl", "OWL 2 RL", URIRef(ENTAILMENT_NS + "OWL-RDF-Based"), "owl-rl",
         URIRef("http://www.w3.org/ns/owl-profile/RL")),
    Mode("rdfs", "RDFS", URIRef(ENTAILMENT_NS + "RDFS"), "rdfs"),
)
BY_NAME = {mode.name: mode for mode in MODES}
INFERENCE_MODES = tuple(mode.name for mode in MODES)
PROFILES = tuple(mode.profile for mode in MODES if mode.profile)


def label(name: str) -> str:
    """The label of the mode `name` for people; a mode not in the table (a remote store's) is its own label."""
    return BY_NAME[name].label if name in BY_NAME else name
