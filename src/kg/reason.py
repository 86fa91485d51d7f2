"""Reasoning: the OWL 2 RL or RDFS closure of a graph, as the inferred triples only. It takes a graph or a store and
never reads files: `kg.build` loads the inputs, calls it and caches the result.

Two engines compute the same closure for the rules our ontology uses:

- ``owlrl``, the reference: the OWL 2 RL (or RDFS) rule set of the owlrl package, run on an rdflib graph; followed by
  :func:`filter_noise`, which drops what owlrl adds that no user wants to see (see ``docs/reasoning.md``).
- ``fast``: the rules of :data:`RULES` written as SPARQL updates and run on a pyoxigraph store, property by property
  in dependency order (:func:`materialize`); for graphs beyond the shipped one, 1M triples in about 13 s
  (``benchmarks/reasoning.py``). A test proves that on the shipped graph it gives exactly owlrl's filtered closure.
"""

from __future__ import annotations

from dataclasses import dataclass

import owlrl
import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from kg.errors import KGError
from kg.graph import rdflib_settings_kept, union
from kg.inference import PROFILES
from kg.namespaces import GRAPH

ENGINES = ("owlrl", "fast")
BUILT_IN = (str(RDF), str(RDFS), str(OWL), str(XSD))
TOP_CLASSES = frozenset({RDFS.Resource, OWL.Thing})
SCHEMA_PREDICATES = frozenset(
    {RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty, RDFS.domain, RDFS.range}
)
ERROR_NS = "http://www.daml.org/2002/03/agents/agent-ont#"

class ReasoningError(KGError):
    """An unknown profile or engine, an ontology the fast engine cannot handle, or an inconsistent graph."""


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ReasoningError(f"unknown inference profile {profile!r}; known: {', '.join(PROFILES)}")
    return profile


def asserted(dataset: Dataset) -> Graph:
    """The union of every named graph but the inferred one, as one graph."""
    return union(dataset, exclude=(GRAPH.inferred,))


# ---------------------------------------------------------------------------------------------------------------------
# The noise filter


def _built_in(term) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(BUILT_IN)


def noise_reason(triple, asserted_graph: Graph, closed: Graph) -> str | None:
    """Why an inferred triple is noise (one of the rules documented in docs/reasoning.md), or None if it is kept.

    `asserted_graph` is the input of the reasoner, `closed` the input plus everything the reasoner added.
    """
    s, p, o = triple
    if isinstance(s, Literal):
        return "literal subject"
    if p == OWL.sameAs and s == o:
        return "trivial sameAs"
    if o in TOP_CLASSES or (p == RDF.type and o == RDF.Property):
        return "top typing"
    if _built_in(s) or s == OWL.Nothing:
        return "built-in vocabulary"
    if p in SCHEMA_PREDICATES and s == o:
        return "reflexive axiom"
    if isinstance(s, BNode) and (s, RDF.type, URIRef(ERROR_NS + "ErrorMessage")) in closed:
        return "error message"
    if isinstance(o, Literal) and _literal_copy(s, p, o, asserted_graph, closed):
        return "literal copy"
    return None


def _literal_copy(s, p, o: Literal, asserted_graph: Graph, closed: Graph) -> bool:
    """True unless the subject (or a node owl:sameAs it) has this very literal for `p` or a subproperty of `p`.

    That is the only way RDFS and OWL 2 RL give a subject a literal value. owlrl's RDFS rules also copy every triple
    to each literal of equal Python value, so `true` becomes `1` and a string its language-tagged twin: not
    entailed, since those are different RDF values.
    """
    for subject in {s, *closed.objects(s, OWL.sameAs)}:
        for q in asserted_graph.predicates(subject, o):
            if q == p or (q, RDFS.subPropertyOf, p) in closed or (q, OWL.equivalentProperty, p) in closed:
                return False
    return True


def filter_noise(inferred: Graph, asserted_graph: Graph, closed: Graph) -> Graph:
    """Drop from `inferred` what owlrl adds that no user wants to see."""
    kept = Graph()
    for triple in inferred:
        if noise_reason(triple, asserted_graph, closed) is None:
            kept.add(triple)
    return kept


# ---------------------------------------------------------------------------------------------------------------------
# The reference engine: owlrl


def owlrl_closure(graph: Graph, profile: str = "owl-rl") -> Graph:
    """The inferred triples of `graph` under owlrl's OWL 2 RL or RDFS rules, without the noise and the asserted."""
    semantics = owlrl.OWLRL_Semantics if check_profile(profile) == "owl-rl" else owlrl.RDFS_Semantics
    closed = Graph()
    closed += graph
    with rdflib_settings_kept():
        owlrl.DeductiveClosure(semantics, axiomatic_triples=False, datatype_axioms=False).expand(closed)
    errors = [str(m) for m in closed.objects(None, URIRef(ERROR_NS + "error"))]
    if errors:
        raise ReasoningError(f"the graph is inconsistent under {profile}: {errors[0]}")
    new = Graph()
    for triple in closed:
        if triple not in graph:
            new.add(triple)
    return filter_noise(new, graph, closed)


# ---------------------------------------------------------------------------------------------------------------------
# The fast engine: SPARQL updates on pyoxigraph


@dataclass(frozen=True)
class Rule:
    """One entailment rule, named as in the OWL 2 RL tables: `head` follows from `schema` and the `data` patterns.

    `schema` matches only schema triples, which the schema rules close first; `data` matches instance triples.
    """

    name: str
    head: str
    schema: str
    data: tuple[str, ...] = ()
    filter: str = ""
    profiles: tuple[str, ...] = PROFILES
    transitive: bool = False

    @property
    def update(self) -> str:
        body = " . ".join([self.schema, *self.data])
        where = f"{body} FILTER({self.filter})" if self.filter else body
        return f"{_PROLOGUE}INSERT {{ {self.head} }} WHERE {{ {where} }}"

    def updates(self, store: ox.Store) -> list[str]:
        """The SPARQL updates that apply the rule to `store`.

        A transitivity rule becomes one property path per transitive property of the store (`?x p+ ?z`), which
        closes chains of any length in one round instead of doubling their length each round.
        """
        if not self.transitive:
            return [self.update]
        found = [row["p"] for row in store.query(f"{_PROLOGUE}SELECT ?p WHERE {{ {self.schema} }}")]
        named = [p for p in found if isinstance(p, ox.NamedNode)]
        paths = [f"INSERT {{ ?x {p} ?z }} WHERE {{ ?x {p} ?y . ?y {p}+ ?z }}" for p in named]
        return paths + ([self.update] if len(named) < len(found) else [])


_PROLOGUE = f"PREFIX rdf: <{RDF}>\nPREFIX rdfs: <{RDFS}>\nPREFIX owl: <{OWL}>\n"
_OWL_RL = ("owl-rl",)

SCHEMA_RULES: tuple[Rule, ...] = (
    Rule("scm-sco", "?a rdfs:subClassOf ?c", "?a rdfs:subClassOf ?b . ?b rdfs:subClassOf ?c", filter="?a != ?c"),
    Rule("scm-spo", "?a rdfs:subPropertyOf ?c", "?a rdfs:subPropertyOf ?b . ?b rdfs:subPropertyOf ?c",
         filter="?a != ?c"),
    Rule("scm-eqc1", "?a rdfs:subClassOf ?b . ?b rdfs:subClassOf ?a", "?a owl:equivalentClass ?b",
         filter="?a != ?b", profiles=_OWL_RL),
    Rule("scm-eqc2", "?a owl:equivalentClass ?b", "?a rdfs:subClassOf ?b . ?b rdfs:subClassOf ?a",
         filter="?a != ?b", profiles=_OWL_RL),
    Rule("scm-eqp1", "?a rdfs:subPropertyOf ?b . ?b rdfs:subPropertyOf ?a", "?a owl:equivalentProperty ?b",
         filter="?a != ?b", profiles=_OWL_RL),
    Rule("scm-eqp2", "?a owl:equivalentProperty ?b", "?a rdfs:subPropertyOf ?b . ?b rdfs:subPropertyOf ?a",
         filter="?a != ?b", profiles=_OWL_RL),
    Rule("scm-dom1", "?p rdfs:domain ?d", "?p rdfs:domain ?c . ?c rdfs:subClassOf ?d", profiles=_OWL_RL),
    Rule("scm-dom2", "?p rdfs:domain ?c", "?q rdfs:domain ?c . ?p rdfs:subPropertyOf ?q", profiles=_OWL_RL),
    Rule("scm-rng1", "?p rdfs:range ?d", "?p rdfs:range ?c . ?c rdfs:subClassOf ?d", profiles=_OWL_RL),
    Rule("scm-rng2", "?p rdfs:range ?c", "?q rdfs:range ?c . ?p rdfs:subPropertyOf ?q", profiles=_OWL_RL),
)

# Property rules derive property assertions, in an order that lets one round feed the next rule: inverses first,
# then transitivity, the chain over the (now closed) transitive property, and superproperties last.
PROPERTY_RULES: tuple[Rule, ...] = (
    Rule("prp-inv1", "?y ?q ?x", "?p owl:inverseOf ?q", ("?x ?p ?y",), "!isLiteral(?y)", _OWL_RL),
    Rule("prp-inv2", "?y ?p ?x", "?p owl:inverseOf ?q", ("?x ?q ?y",), "!isLiteral(?y)", _OWL_RL),
    Rule("prp-symp", "?y ?p ?x", "?p a owl:SymmetricProperty", ("?x ?p ?y",), "!isLiteral(?y)", _OWL_RL),
    Rule("prp-trp", "?x ?p ?z", "?p a owl:TransitiveProperty", ("?x ?p ?y", "?y ?p ?z"), profiles=_OWL_RL,
         transitive=True),
    Rule("prp-spo2", "?x ?p ?z",
         "?p owl:propertyChainAxiom ?l . ?l rdf:first ?p1 ; rdf:rest ?r . ?r rdf:first ?p2 ; rdf:rest rdf:nil",
         ("?x ?p1 ?y", "?y ?p2 ?z"), profiles=_OWL_RL),
    Rule("prp-spo1", "?x ?q ?y", "?p rdfs:subPropertyOf ?q", ("?x ?p ?y",)),
)
# Type rules derive rdf:type triples from property assertions and types; with the schema closed, one pass each.
TYPE_RULES: tuple[Rule, ...] = (
    Rule("prp-dom", "?x a ?c", "?p rdfs:domain ?c", ("?x ?p ?y",)),
    Rule("prp-rng", "?y a ?c", "?p rdfs:range ?c", ("?x ?p ?y",), "!isLiteral(?y)"),
    Rule("cax-sco", "?x a ?d", "?c rdfs:subClassOf ?d", ("?x a ?c",)),
)
RULES = SCHEMA_RULES + PROPERTY_RULES + TYPE_RULES

SCHEMA_PATTERNS = (
    "?s rdfs:subClassOf ?o", "?s rdfs:subPropertyOf ?o", "?s rdfs:domain ?o", "?s rdfs:range ?o",
    "?s owl:equivalentClass ?o", "?s owl:equivalentProperty ?o", "?s owl:inverseOf ?o",
    "?s owl:propertyChainAxiom ?o", "?s a owl:TransitiveProperty", "?s a owl:SymmetricProperty",
)
SCHEMA_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { " + " UNION ".join(f"{{ {p} }}" for p in SCHEMA_PATTERNS) + " }"
# rdf:type in a property rule, or with a domain or range, would let types feed the property rules: no strata then.
TYPE_FEEDS_PROPERTIES = (
    "ASK { { ?a rdfs:subPropertyOf|owl:inverseOf|rdfs:domain|rdfs:range ?b FILTER(?a = rdf:type || ?b = rdf:type) }"
    " UNION { rdf:type a ?t FILTER(?t IN (owl:TransitiveProperty, owl:SymmetricProperty)) }"
    " UNION { ?p owl:propertyChainAxiom/rdf:rest*/rdf:first rdf:type } }"
)

UNSUPPORTED = (
    ("owl:sameAs", "ASK { ?a owl:sameAs ?b FILTER(?a != ?b) }"),
    ("a property chain of other than two properties",
     "ASK { ?p owl:propertyChainAxiom ?l FILTER NOT EXISTS { ?l rdf:rest/rdf:rest rdf:nil } }"),
    ("a functional property with two values",
     "ASK { ?p a owl:FunctionalProperty . ?x ?p ?a , ?b FILTER(?a != ?b) }"),
    ("an inverse-functional property with two subjects",
     "ASK { ?p a owl:InverseFunctionalProperty . ?a ?p ?x . ?b ?p ?x FILTER(?a != ?b) }"),
)


def materialize(store: ox.Store, profile: str = "owl-rl") -> int:
    """Close the default graph of `store` in place under the fast rules; return the number of rounds (passes over
    the rules of a stratum).

    Strata: the schema rules to a fixpoint; then the property rules, one property at a time (:func:`property_plan`);
    then the type rules, once each. If the type rules derived schema triples (something typed
    owl:TransitiveProperty through a range, say), everything runs again. Where the plan does not apply (a property
    that is a blank node, rdf:type in a property rule), the property and type rules run naively instead: every rule on
    everything known, round after round, until a round adds nothing (:func:`materialize_naive`).
    """
    return _materialize(store, profile, naive=False)


def materialize_naive(store: ox.Store, profile: str = "owl-rl") -> int:
    """What :func:`materialize` does, by naive rounds only: slower, kept as the reference the tests compare with."""
    return _materialize(store, profile, naive=True)


def _materialize(store: ox.Store, profile: str, naive: bool) -> int:
    check_profile(profile)
    schema_rules = [r for r in SCHEMA_RULES if profile in r.profiles]
    property_rules = [r for r in PROPERTY_RULES if profile in r.profiles]
    type_rules = [r for r in TYPE_RULES if profile in r.profiles]
    if profile == "owl-rl":
        for what, ask in UNSUPPORTED:
            if store.query(_PROLOGUE + ask):
                raise ReasoningError(f"the fast engine does not handle {what}; use the owlrl engine")
    rounds = 0
    while True:
        rounds += _fixpoint(store, schema_rules, _schema_size)
        schema_size = _schema_size(store)
        types_feed_properties = bool(store.query(_PROLOGUE + TYPE_FEEDS_PROPERTIES))
        plan = None if naive or types_feed_properties else property_plan(store, property_rules)
        if plan is not None:
            rounds += 2 + sum(_run(store, step, closed) for step, closed in plan)
            for update in _type_updates(store, type_rules):
                store.update(update)
        elif types_feed_properties:
            rounds += _fixpoint(store, property_rules + type_rules, len)
        else:
            rounds += _fixpoint(store, property_rules, len) + 1
            for rule in type_rules:
                for update in rule.updates(store):
                    store.update(update)
        if _schema_size(store) == schema_size:
            return rounds


def _schema_size(store: ox.Store) -> int:
    return int(next(iter(store.query(_PROLOGUE + SCHEMA_COUNT)))["n"].value)


def _fixpoint(store: ox.Store, rules: list[Rule], size) -> int:
    """Run `rules` in rounds until a round leaves `size(store)` unchanged; return the number of rounds."""
    rounds, before = 0, size(store)
    while True:
        rounds += 1
        for rule in rules:
            for update in rule.updates(store):
                store.update(update)
        after = size(store)
        if after == before:
            return rounds
        before = after


# The property rules, one instance per schema triple: `reads` and `writes` are the properties of its data patterns
# and of its head (N-Triples syntax), so that a property is closed only once everything it is derived from is.


@dataclass(frozen=True)
class Instance:
    rule: str
    reads: tuple[str, ...]
    writes: str
    update: str


def instances(store: ox.Store, rules: list[Rule]) -> list[Instance] | None:
    """The rules instantiated with each schema match, in rule order; None if a property is not an IRI."""
    found = []
    for rule in rules:
        solutions = store.query(f"{_PROLOGUE}SELECT * WHERE {{ {rule.schema} }}")
        variables = solutions.variables
        for row in solutions:
            terms = {var.value: row[var] for var in variables if row[var] is not None}
            patterns = [_bind(pattern, terms) for pattern in (rule.head, *rule.data)]
            properties = [pattern.split()[1] for pattern in patterns]
            if not all(p.startswith("<") for p in properties):
                return None
            head, *data = patterns
            if rule.transitive:
                data = [data[0], data[1].replace(f" {properties[2]} ", f" {properties[2]}+ ")]
            if rule.name == "prp-spo1" and properties[0] == properties[1]:
                continue
            body = " . ".join(data) + (f" FILTER({rule.filter})" if rule.filter else "")
            found.append(Instance(rule.name, tuple(properties[1:]), properties[0],
                                  f"INSERT {{ {head} }} WHERE {{ {body} }}"))
    return found


def _bind(pattern: str, terms: dict) -> str:
    return " ".join(str(terms[t[1:]]) if t.startswith("?") and t[1:] in terms else t for t in pattern.split())


def property_plan(store: ox.Store, rules: list[Rule]) -> list[tuple[list[Instance], bool]] | None:
    """The property rules as steps `(instances, closed)`, one step per strongly connected set of properties.

    Properties are closed in dependency order: a property's instances run once everything they read is final. A
    step whose instances also read what the step writes (a transitive property, an inverse pair, a chain through the
    property itself) is `closed` after one pass in rule order only in the cases :func:`_one_pass` recognizes;
    otherwise it runs to a fixpoint. None if the plan does not apply (see :func:`instances`).
    """
    found = instances(store, rules)
    if found is None:
        return None
    edges: dict[str, set[str]] = {}
    for inst in found:
        for read in inst.reads:
            edges.setdefault(read, set()).add(inst.writes)
    reach = {p: _reachable(p, edges) for p in {i.writes for i in found}}
    components = {frozenset({p} | {q for q in reach[p] if p in reach.get(q, ())}) for p in reach}
    # If component A feeds component B, A reaches a strict superset of what B reaches: larger reach first.
    order = sorted(components, key=lambda c: -len(reach[next(iter(c))] | c))
    transitive = {i.writes for i in found if i.rule == "prp-trp"}
    plan = []
    for component in order:
        step = [i for i in found if i.writes in component]
        entry = [i for i in step if not component & set(i.reads)]
        inner = [i for i in step if component & set(i.reads)]
        plan.append((entry + inner, not inner or _one_pass(component, inner, transitive)))
    return plan


def _reachable(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for q in edges.get(todo.pop(), ()):
            if q not in seen:
                seen.add(q)
                todo.append(q)
    return seen


def _one_pass(component: frozenset, inner: list[Instance], transitive: set[str]) -> bool:
    """Whether one pass of `inner` (in rule order, after the instances feeding `component`) closes `component`.

    - one property, symmetric (or its own inverse) and/or transitive: symmetry first, then the transitive closure,
      which is symmetric when the relation is;
    - an inverse pair (no property its own inverse), both transitive or neither: the inverses make each the other's
      converse, and the closure of a converse is the converse of the closure;
    - one property p and one chain `p o q` (or `q o p`) with q transitive and already closed: p o q o q is in p o q.
    """
    rules = sorted(i.rule for i in inner)
    if len(component) == 1 and set(rules) <= {"prp-inv1", "prp-inv2", "prp-symp", "prp-trp"}:
        return True
    if len(component) == 2 and set(rules) <= {"prp-inv1", "prp-inv2", "prp-trp"}:
        crossing = all(i.reads[0] != i.writes for i in inner if i.rule != "prp-trp")
        return crossing and len(component & transitive) in (0, 2)
    if len(component) == 1 and rules == ["prp-spo2"]:
        (other,) = set(inner[0].reads) - component or {None}
        return other in transitive
    return False


def _run(store: ox.Store, step: list[Instance], closed: bool) -> int:
    """Run the updates of a step once if it is closed after one pass, else to a fixpoint; return the extra passes."""
    passes, before = -1, None
    while True:
        passes += 1
        for inst in step:
            store.update(_PROLOGUE + inst.update)
        if closed:
            return passes
        after = len(store)
        if after == before:
            return passes
        before = after


# The type rules, with the schema closed: cax-sco first when domains and ranges are closed under subclasses (OWL 2
# RL's scm-dom1 and scm-rng1), so that it runs on the asserted types only; after prp-dom and prp-rng otherwise.
# Each rule inserts distinct triples, so that the store is not asked to insert the same triple many times.
DOMAINS_OPEN = (
    "ASK { { ?p rdfs:domain ?c . ?c rdfs:subClassOf ?d FILTER NOT EXISTS { ?p rdfs:domain ?d } } UNION"
    " { ?p rdfs:range ?c . ?c rdfs:subClassOf ?d FILTER NOT EXISTS { ?p rdfs:range ?d } } }"
)


def _type_updates(store: ox.Store, rules: list[Rule]) -> list[str]:
    updates = {}
    for rule in rules:
        node, _, cls = rule.head.split()
        where = " . ".join([rule.schema, *rule.data]) + (f" FILTER({rule.filter})" if rule.filter else "")
        distinct = f"SELECT DISTINCT {node} {cls} {{ {where} }}"
        updates[rule.name] = f"{_PROLOGUE}INSERT {{ {rule.head} }} WHERE {{ {distinct} }}"
    if "cax-sco" in updates and not store.query(_PROLOGUE + DOMAINS_OPEN):
        updates = {"cax-sco": updates.pop("cax-sco"), **updates}
    return list(updates.values())


# The asserted triples are kept in this graph while the default graph is closed, so that the inferred ones can be told
# apart; the filter is :func:`noise_reason`'s rules as SPARQL (the fast rules derive no literal subject, no error
# message and no sameAs), so that a large closure never passes through rdflib.
ASSERTED_GRAPH = ox.NamedNode("urn:x-kg:asserted")
_BUILT_IN_TESTS = " || ".join(f'STRSTARTS(STR(?s), "{ns}")' for ns in BUILT_IN)
INFERRED = f"""{_PROLOGUE}SELECT ?s ?p ?o WHERE {{
  ?s ?p ?o
  FILTER NOT EXISTS {{ GRAPH <{ASSERTED_GRAPH.value}> {{ ?s ?p ?o }} }}
  FILTER(!(?o IN ({", ".join(f"<{c}>" for c in sorted(TOP_CLASSES))})) && !(?p = rdf:type && ?o = rdf:Property))
  FILTER(!isIRI(?s) || !({_BUILT_IN_TESTS} || ?s = owl:Nothing))
  FILTER(!(?p IN ({", ".join(f"<{p}>" for p in sorted(SCHEMA_PREDICATES))}) && ?s = ?o))
  FILTER(!isLiteral(?o) || EXISTS {{
    GRAPH <{ASSERTED_GRAPH.value}> {{ ?s ?q ?o }}
    FILTER(?q = ?p || EXISTS {{ ?q rdfs:subPropertyOf|owl:equivalentProperty ?p }})
  }})
}}"""


def fast_inferred(store: ox.Store, profile: str = "owl-rl") -> ox.QuerySolutions:
    """Close `store`, whose graph :data:`ASSERTED_GRAPH` holds the input, under the fast rules; return the inferred
    triples without the noise (solutions ?s ?p ?o, computed as they are read)."""
    store.update(f"INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ASSERTED_GRAPH.value}> {{ ?s ?p ?o }} }}")
    materialize(store, profile)
    return store.query(INFERRED)


def fast_closure(graph: Graph, profile: str = "owl-rl") -> Graph:
    """The inferred triples of `graph` under the fast rules (what :func:`owlrl_closure` gives, for those rules)."""
    store = ox.Store()
    store.extend(ox.Quad(*(to_oxigraph(term) for term in triple), ASSERTED_GRAPH) for triple in graph)
    new = Graph()
    for row in fast_inferred(store, profile):
        new.add(tuple(from_oxigraph(term) for term in row))
    return new


def to_oxigraph(term):
    """An rdflib term as a pyoxigraph term (blank nodes keep their ids)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)) if term.datatype else None)


def from_oxigraph(term):
    """A pyoxigraph term as an rdflib term; xsd:string literals become plain literals, as rdflib parses them."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value) if datatype == str(XSD.string) else Literal(term.value, datatype=URIRef(datatype))


def closure(graph: Graph, profile: str = "owl-rl", engine: str = "owlrl") -> Graph:
    """The inferred triples of `graph` under `profile`, by `engine` (owlrl or fast)."""
    if engine not in ENGINES:
        raise ReasoningError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    return owlrl_closure(graph, profile) if engine == "owlrl" else fast_closure(graph, profile)
