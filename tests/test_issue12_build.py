"""Issue 12's Build list, one query per item, against the shipped graph (asserted triples only)."""

from __future__ import annotations

import pytest

import kg

ASKED = {
    "every article claim has exactly one attribution kind, from the scheme": """ASK {
        FILTER NOT EXISTS { ?c ct:reportedIn kg:doc-mwn-article .
                            FILTER NOT EXISTS { ?c ct:attributionKind/skos:inScheme ct:AttributionKinds } } }""",
    "the 32 cells are a set of their own, part of the 207, whose majority share keeps its wording": """ASK {
        kg:claim-cells-dismantled-last-three-years ct:measures ?cells .
        ?cells a ct:CellSet ; ct:subsetOf kg:cells-dismantled-since-2002 .
        kg:claim-cells-last-three-years-islamic-state-majority ct:measures ?share ; ct:originalWording "the majority" ;
            ct:shareOf kg:claim-cells-dismantled-last-three-years .
        ?share ct:subsetOf ?cells ; ct:affiliatedTo kg:org-islamic-state .
        FILTER NOT EXISTS { ?claim a/rdfs:subClassOf* ct:Claim ; ct:affiliatedTo ?any } }""",
    "the Imlil attackers pledged allegiance, lone wolves, not the organisation": """ASK {
        kg:event-2018-imlil-murders ct:carriedOutBy ?group ; ct:numberOfPerpetrators 4 .
        ?group ct:pledgedAllegianceTo kg:org-islamic-state ; ct:describedAs "lone wolves"@en .
        FILTER NOT EXISTS { kg:event-2018-imlil-murders ct:perpetratedBy kg:org-islamic-state } }""",
    "open lists are marked non-exhaustive with their words": """ASK {
        kg:claim-moussalaha-partner ct:exhaustive false ; ct:originalWording "other bodies such as" .
        kg:claim-information-collection ct:exhaustive false ; ct:originalWording "including" }""",
    "modality and frequency are qualifiers": """ASK {
        kg:claim-monitoring-duration ct:modality ct:Possibly ; ct:originalWording "can extend to more than one month" .
        kg:claim-urgent-intervention-duration ct:frequency ct:Sometimes .
        kg:claim-reintegration-possible ct:modality ct:Possibly }""",
    "periods nest explicitly": """ASK {
        kg:period-last-three-years time:intervalIn kg:period-since-2002 .
        kg:period-moussalaha-so-far time:intervalIn kg:period-since-2002 .
        kg:period-since-2002 time:intervalIn kg:period-2002-to-2021 }""",
    "every quote has a prefix and a suffix": """ASK {
        FILTER NOT EXISTS { ?s oa:exact ?q . FILTER NOT EXISTS { ?s oa:prefix ?p ; oa:suffix ?x } } }""",
    "dates at the source's precision": """ASK {
        kg:org-morocco-world-news ct:foundedAbout "2011"^^xsd:gYear .
        FILTER NOT EXISTS { kg:org-morocco-world-news schema:foundingDate ?exact }
        kg:org-mohammadia-league-of-ulemas schema:foundingDate "2006"^^xsd:gYear .
        kg:event-2011-marrakesh-bombing schema:startDate ?local . FILTER(TZ(?local) = "") }""",
    "history reports are claims of their own documents, text not at hand": """ASK {
        FILTER NOT EXISTS { ?c ct:inSeries ?m . FILTER NOT EXISTS {
            ?c ct:claimedBy ?who ; ct:statedIn/schema:datePublished ?date ; ct:period ?p ; ct:valueKind ?k ;
               wikibase:rank ?r ; ct:evidence/ct:evidenceKind ?e } }
        FILTER NOT EXISTS { ?c ct:evidence/ct:evidenceKind ct:TextNotAtHand ; ct:evidence/oa:hasSelector ?s } }""",
}

SELECTED = {
    "attribution counts per kind": (
        """SELECT ?kind (COUNT(?c) AS ?n) WHERE { ?c ct:attributionKind ?kind } GROUP BY ?kind ORDER BY ?kind""",
        [("OutletStatement", 3), ("ReportedFromDocument", 13), ("StatedByClaimant", 14)]),
    "the two folds of the strategy are its two pillars": (
        """SELECT ?pillar WHERE { kg:strategy-morocco-counterterrorism ct:pillar ?pillar } ORDER BY ?pillar""",
        [("strategy-arrest-and-imprisonment",), ("strategy-deradicalization",)]),
    "each series with its figures, by date, and the preferred one": (
        """SELECT ?measure ?value ?date ?rank WHERE { ?c ct:inSeries ?measure ; wikibase:rank ?rank ;
               ct:statedIn/schema:datePublished ?date . { ?c schema:value ?value } }
           ORDER BY ?measure ?date""",
        [("measure-cells-dismantled-since-2002", 185, "2020-10", "NormalRank"),
         ("measure-cells-dismantled-since-2002", 207, "2020-11", "NormalRank"),
         ("measure-cells-dismantled-since-2002", 214, "2022-10", "PreferredRank"),
         ("measure-moussalaha-beneficiaries", 68, "2020-11", "NormalRank"),
         ("measure-moussalaha-beneficiaries", 239, "2022-07", "NormalRank"),
         ("measure-moussalaha-beneficiaries", 300, "2023-11", "PreferredRank")]),
}


@pytest.mark.parametrize("item", sorted(ASKED))
def test_build_item_holds(dataset, item):
    assert kg.query(dataset, ASKED[item]).askAnswer, item


def _short(term):
    text = term.toPython() if hasattr(term, "toPython") else term
    if isinstance(text, str) and "/" in text:
        return text.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return text if isinstance(text, int) else str(text)


@pytest.mark.parametrize("item", sorted(SELECTED))
def test_build_item_answers(dataset, item):
    query, expected = SELECTED[item]
    assert [tuple(_short(t) for t in row) for row in kg.query(dataset, query)] == expected
