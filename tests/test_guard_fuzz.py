"""The lexical guard against the engine: what pyoxigraph executes never reaches an endpoint the scan did not report,
and a query built deeper than the limit is refused, whatever comments, strings, IRIs and escaped names surround it.

Queries are assembled from pieces whose SPARQL 1.1 token boundaries are known by construction (comments ended by
`\\n`, `\\r`, `\\r\\n` or the end of the text; the four kinds of strings; IRIs with `\\u` escapes; prefixed names with
PN_LOCAL_ESC and percent escapes). Property A takes the engine as ground truth: an in-process `pyoxigraph.Store`
evaluates SERVICE itself over HTTP, and a loopback listener counts its requests. Property B takes the construction as
ground truth: the bracket depth built. Deep queries never go to the in-process engine (its parser overflows the stack
and kills pytest).
"""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from urllib.parse import urljoin

import pyoxigraph
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.errors import QueryRejected
from kg.federation import FederationRefused, normalize
from kg.store import PREFIX_ITEMS
from kg.store.guard import check, scan

MAX_NESTING = 100  # the default of the max_nesting setting
BASE_IRI = "http://127.0.0.1/sparql"  # the endpoint passes the request's URL as the base IRI
EMPTY_RESULT = b'{"head":{"vars":[]},"results":{"bindings":[]}}'
FUZZ = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class Listener:
    """A SPARQL endpoint on 127.0.0.1 that answers every request with an empty result and counts the requests."""

    def __init__(self):
        self.requests = 0
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                listener.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(EMPTY_RESULT)))
                self.end_headers()
                self.wfile.write(EMPTY_RESULT)

            do_GET = do_POST = answer  # noqa: N815 (http.server's naming)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def listener():
    served = Listener()
    yield served
    served.close()


def evaluate(text: str) -> bool:
    """Run `text` in a fresh in-process engine with the endpoint's prefixes; False if the engine cannot parse it."""
    try:
        result = pyoxigraph.Store().query(text, prefixes=dict(PREFIX_ITEMS), base_iri=BASE_IRI)
    except SyntaxError:
        return False
    if not isinstance(result, pyoxigraph.QueryBoolean):
        for _ in result:  # solutions and triples are lazy: SERVICE runs while they are read
            pass
    return True


# Pieces with known token boundaries ------------------------------------------------------------------------------

LINE_ENDS = st.sampled_from(["\n", "\r", "\r\n"])
# Inside a comment: anything but a line end, including what would close brackets, open strings or call a service
COMMENT_BITS = st.sampled_from(["SERVICE", " ", "{", "}", "(", ")", "[", "]", "'", '"', "'''", '"""', "<", ">", "\\",
                                "#", "a", "\t", "\f", "\v", "\x85", "\u2028", "\\u000A", "kg:a\\"])
COMMENT_BODY = st.lists(COMMENT_BITS, max_size=6).map("".join)
COMMENT = st.builds(lambda body, end: "#" + body + end, COMMENT_BODY, LINE_ENDS)
SPACE = st.one_of(st.sampled_from([" ", "\t", "\n", "\r", "\r\n"]), COMMENT)
SEP = st.one_of(st.just(" "), st.lists(SPACE, min_size=1, max_size=3).map("".join))  # a token boundary
GAP = st.lists(SPACE, max_size=2).map(lambda spaces: "".join(spaces) or " ")

# String contents: characters the scanner might take for a closing quote, a comment or a bracket; ECHARs
SHORT_BITS = ["a", " ", "#", "(", ")", "{", "}", "[", "]", "<", ">", "SERVICE", "\\\\", "\\n", "\\t", "\\u0027",
              "\\u0022", "\\U00000041"]


def short_string(quote: str) -> st.SearchStrategy[str]:
    other = "'" if quote == '"' else '"'
    bits = st.sampled_from([*SHORT_BITS, other, "\\" + quote, "\\" + other])
    return st.lists(bits, max_size=6).map(lambda parts: quote + "".join(parts) + quote)


def long_string(quote: str) -> st.SearchStrategy[str]:
    """A long string: runs of one or two quotes, each followed by a character that is not a quote (the grammar)."""
    runs = st.sampled_from(["", quote, quote * 2])
    plain = st.sampled_from([*SHORT_BITS, "\n", "\r", "\r\n", "\\" + quote, '"' if quote == "'" else "'"])
    item = st.builds(lambda run, char: run + char, runs, plain)
    return st.lists(item, max_size=5).map(lambda parts: quote * 3 + "".join(parts) + quote * 3)


STRING = st.one_of(short_string("'"), short_string('"'), long_string("'"), long_string('"'))
LITERAL = st.one_of(STRING, st.builds(lambda s, tail: s + tail, STRING,
                                      st.sampled_from(["@en", "@en-GB", "^^xsd:string", "^^<http://x/#t>"])))

IRI_BITS = st.sampled_from(["a", "/", "#", "(", ")", "'", "%41", ":", ".", "\\u0041", "\\U00000042", "\\u0023"])
IRI = st.lists(IRI_BITS, max_size=6).map(lambda parts: "<http://example.org/" + "".join(parts) + ">")

# PN_LOCAL: PN_LOCAL_ESC is '\' followed by one of _~.-!$&'()*+,;=/?#@%
ESCAPES = ["\\" + c for c in "_~.-!$&'()*+,;=/?#@%"]
LOCAL_FIRST = st.sampled_from(["a", "0", "_", ":", "%41", "é", *ESCAPES])
LOCAL_MIDDLE = st.sampled_from(["a", "0", "-", ".", ":", "%7B", "·", *ESCAPES])
LOCAL_LAST = st.sampled_from(["a", "0", "-", ":", "%41", *ESCAPES])


@st.composite
def local_name(draw) -> str:
    if not draw(st.booleans()):
        return ""
    middle = draw(st.lists(LOCAL_MIDDLE, max_size=4))
    return draw(LOCAL_FIRST) + ("".join(middle) + draw(LOCAL_LAST) if middle else "")


PNAME = st.builds(lambda prefix, local: prefix + ":" + local, st.sampled_from(["kg", "rdfs", "wd"]), local_name())
NUMBER = st.sampled_from(["1", "+2", "-3", "1.5", ".5", "1e3", "2.E-1", "0"])
VARIABLE = st.sampled_from(["?u", "$u", "?SERVICE", "?from", "?_"])
# Valid constants that a tokenizer may read differently from the grammar: escapes in names, quotes and closing
# brackets in strings and IRIs (a fixed list, so that each is drawn often enough to sit right before a SERVICE)
TRICKY = st.sampled_from([
    "kg:a\\)", "kg:\\)\\)\\)", "kg:a\\)\\,\\;", "kg:a\\#", "kg:a\\#b", "kg:a\\'", "kg:a\\'b", "kg:a\\(", "kg:a\\.",
    "kg:a.b", "kg:%41\\%", "')'", '")}]"', "'''))\n}'''", '""")\r)"""', "'\\')'", '"\\")"', "'''a''b'''",
    "<http://example.org/)>", "<http://example.org/\\u0029>", "<http://example.org/#\\u0023>", "1.5", "true",
])
CONSTANT = st.one_of(TRICKY, LITERAL, IRI, PNAME, NUMBER, st.sampled_from(["true", "false"]))
TERM = st.one_of(CONSTANT, VARIABLE)


def expression(depth: int) -> st.SearchStrategy[str]:
    """An expression at most `depth` brackets deep."""
    if depth == 0:
        return TERM
    inner = expression(depth - 1)
    return st.one_of(
        TERM,
        st.builds(lambda gap, e: "(" + gap + e + gap + ")", GAP, inner),
        st.builds(lambda e: "STR(" + e + ")", inner),
        st.builds(lambda a, gap, b: "CONCAT(" + a + "," + gap + b + ")", inner, GAP, inner),
        st.builds(lambda a, op, b: a + op + b, TERM, st.sampled_from([" + ", " - ", " * ", " < ", " || ", " = "]),
                  inner),
        st.builds(lambda e: "!" + e, inner),
    )


EXPRESSION = expression(3)


def filler() -> st.SearchStrategy[str]:
    """A group element that keeps the group's one solution, so that a SERVICE beside it is still evaluated.
    `{v}` marks a fresh variable."""
    return st.one_of(
        SPACE,
        st.builds(lambda e, gap: "BIND(" + e + " AS" + gap + "{v})", EXPRESSION, GAP),
        st.builds(lambda e: "FILTER(true || (" + e + "))", EXPRESSION),
        st.builds(lambda values: "VALUES {v} { " + " ".join(values) + " }",
                  st.lists(st.one_of(CONSTANT, st.just("UNDEF")), min_size=1, max_size=3)),
        # a trailing '.' after a name ends the triple; it is no part of the name
        st.builds(lambda t, end: "OPTIONAL { ?s ?p " + t + end + "}", CONSTANT,
                  st.sampled_from([" ", ".", " .", ". "])),
    )


FILLERS = st.lists(filler(), max_size=4).map(" ".join)
# Right beside the SERVICE call: mostly a tricky constant, which would hide the call from a tokenizer that reads it
# as the start of a comment or a string
NEIGHBOUR = st.one_of(st.builds("BIND({} AS {{v}})".format, TRICKY), st.builds("VALUES {{v}} {{ {} }}".format, TRICKY),
                      filler())


# The SERVICE call, with the declarations its target needs
@st.composite
def service_call(draw, port: int) -> tuple[str, str]:
    here = f"http://127.0.0.1:{port}/"
    prologue, target = draw(st.sampled_from([
        ("", f"<{here}x>"),
        ("", f"<{here}\\u0041>"),
        ("", f"<HTTP://127.0.0.1:{port}/x>"),
        ("", f"<http://\\u0031\\u0032\\u0037.0.0.1:{port}/x>"),
        (f"PREFIX lo: <{here}>", "lo:x"),
        (f"PREFIX lo: <{here}>", "lo:\\#x"),
        (f"PREFIX lo:<{here}>", "lo:a.b"),
        (f"PREFIX : <{here}>", ":x"),
        (f"PREFIX kg: <{here}>", "kg:sparql"),  # redeclares a prefix the endpoint predeclares
        (f"PREFIX lo: <http://example.org/> PREFIX lo: <{here}>", "lo:x"),  # the last declaration holds
        (f"BASE <{here}>", "<x>"),
        (f"BASE <http://example.org/> BASE <//127.0.0.1:{port}/>", "<x>"),  # a relative base, resolved
        (f"BASE <{here}a/b> PREFIX lo: <../>", "lo:x"),  # a relative prefix IRI, resolved against the base
        ("", f"<//127.0.0.1:{port}/x>"),  # resolved against the request's base IRI
    ]))
    if prologue:
        prologue = prologue.replace(" ", draw(SEP), 1) + draw(SEP)  # PREFIX #\r lo: <...>
    keyword = draw(st.sampled_from(["SERVICE", "service", "Service"]))
    silent = draw(st.sampled_from(["", "SILENT", "silent"]))
    call = keyword + draw(SEP) + (silent + draw(SEP) if silent else "") + target + draw(GAP) + "{ ?s ?p ?o }"
    wrap = draw(st.sampled_from(["{}", "{{ {} }}", "OPTIONAL {{ {} }}", "{{ {} }} UNION {{ FILTER(false) }}",
                                 "MINUS {{ {} }}", "FILTER EXISTS {{ {} }}", "{{ SELECT * WHERE {{ {} }} }}"]))
    return prologue, wrap.format(call)


@st.composite
def federated_query(draw, port: int) -> str:
    prologue, call = draw(service_call(port))
    head = draw(st.sampled_from(["SELECT * WHERE", "select *", "ASK", "ask where", "CONSTRUCT { ?s ?p ?o } WHERE"]))
    body = draw(FILLERS) + " " + draw(NEIGHBOUR) + draw(SEP) + call + draw(SEP) + draw(NEIGHBOUR) + " " + draw(FILLERS)
    tail = draw(st.sampled_from(["", " ", "\n", "#", "# }", "#\r", "#SERVICE <x> {}"]))  # a comment may end the text
    text = f"{prologue}{head} {{ {body} }}{tail}"
    for index in range(text.count("{v}")):
        text = text.replace("{v}", f"?b{index}", 1)
    return text


def services_at(info, port: int) -> list[str]:
    """The SERVICE targets the scan reported that name the listener (relative ones resolved as the engine does)."""
    found = []
    for service in info.services:
        try:
            if normalize(urljoin(BASE_IRI, service)).startswith(f"http://127.0.0.1:{port}/"):
                found.append(service)
        except FederationRefused:
            continue
    return found


# Property A: the engine as ground truth ---------------------------------------------------------------------------

def test_the_listener_sees_what_the_engine_calls(listener):
    before = listener.requests
    assert evaluate(f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/x> {{ ?s ?p ?o }} }}")
    assert listener.requests == before + 1


@FUZZ
@given(data=st.data())
def test_every_service_the_engine_calls_is_refused_by_the_scan(listener, data):
    text = data.draw(federated_query(listener.port), label="query")
    before = listener.requests
    if not evaluate(text):
        return  # the engine refuses the text: nothing was executed
    # every query is built with a SERVICE call the engine evaluates: one it parses calls the listener
    assert listener.requests > before
    info = scan(text, PREFIX_ITEMS)
    assert services_at(info, listener.port), f"the engine called the listener; the scan found {info.services}"
    with pytest.raises(FederationRefused):
        check(info, max_nesting=MAX_NESTING)


# Property B: the construction as ground truth ---------------------------------------------------------------------

HOSTILE_ATOMS = st.one_of(TRICKY, st.just("?u"))
HOSTILE_GAPS = st.sampled_from([" ", "\r", "\r\n", "#)}]\n", "#)}]\r", "#)}]\r\n", "#\\)\r", "#'\r", '#"\n', "\t#)\n"])


@st.composite
def nested_query(draw) -> tuple[str, int]:
    """A query and the bracket depth it was built with: WHERE's brace, then one bracket per level, mixing
    parentheses, braces and brackets of blank nodes, with hostile tokens at every level."""
    levels = draw(st.integers(min_value=0, max_value=150))
    text, context = draw(HOSTILE_ATOMS), "expression"
    for _ in range(levels):
        gap, atom = draw(HOSTILE_GAPS), draw(HOSTILE_ATOMS)
        if context == "expression":
            kind = draw(st.sampled_from(["paren", "function", "filter", "bind", "blank"]))
            if kind == "paren":
                text = f"({gap}{atom} +{gap}{text})"
            elif kind == "function":
                text = f"CONCAT({atom},{gap}{text})"
            elif kind == "filter":
                text, context = f"FILTER({gap}{text}{gap})", "group"
            elif kind == "bind":
                text, context = f"BIND({text} AS{gap}?b{levels})", "group"
            else:
                text, context = f"?s ?p [{gap}?q {text}{gap}] .", "group"
        else:
            kind = draw(st.sampled_from(["group", "optional", "exists"]))
            if kind == "group":
                text = f"{{{gap}BIND({atom} AS ?a{levels}){gap}{text}{gap}}}"
            elif kind == "optional":
                text = f"OPTIONAL {{ ?s ?p {atom} .{gap}{text}{gap}}}"
            else:
                text, context = f"EXISTS {{{gap}{text}{gap}}}", "expression"
    depth = levels + 1
    if context == "expression":
        text, depth = f"FILTER({text})", depth + 1
    return f"SELECT * WHERE {{ BIND({draw(HOSTILE_ATOMS)} AS ?x){draw(HOSTILE_GAPS)}{text} }}", depth


@FUZZ
@given(built=nested_query(), max_nesting=st.integers(min_value=1, max_value=120))
def test_the_scan_never_counts_less_than_the_nesting_built(built, max_nesting):
    text, depth = built
    info = scan(text, PREFIX_ITEMS)
    assert info.depth >= depth
    if depth > max_nesting:
        with pytest.raises(QueryRejected, match="nested"):
            check(info, max_nesting=max_nesting)


# Regressions: the reproductions of issue 8 ------------------------------------------------------------------------

HIDDEN = [  # item 1: each hid a SERVICE from the scan
    "SELECT * WHERE {{ #\r SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ BIND(kg:a\\# AS ?x) SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ BIND(kg:a\\' AS ?x) SERVICE <{url}> {{ ?s ?p ?o }} BIND('x' AS ?y) }}",
]


@pytest.mark.parametrize("template", HIDDEN, ids=["comment-ended-by-cr", "escaped-hash", "escaped-quote"])
def test_hidden_services_of_issue_8_are_refused(listener, template):
    text = template.format(url=f"http://127.0.0.1:{listener.port}/x")
    info = scan(text, PREFIX_ITEMS)
    assert services_at(info, listener.port) == [f"http://127.0.0.1:{listener.port}/x"]
    with pytest.raises(FederationRefused):
        check(info, max_nesting=MAX_NESTING)
    before = listener.requests
    assert evaluate(text) and listener.requests == before + 1  # the engine would have made the call


@pytest.mark.parametrize("text", [
    # item 2: escaped closing parentheses lowered the count; 20,000 parentheses then killed the engine
    "SELECT * WHERE { ?s ?p kg:a" + "\\)" * 20_000 + " FILTER(" + "(" * 20_000 + "1" + ")" * 20_000 + ") }",
    "SELECT * WHERE { BIND(kg:a\\) AS ?x) FILTER(" + "(" * 20_000 + "1" + ")" * 20_000 + ") }",
    # operator chains without brackets overflow the engine's parser as well
    "ASK { FILTER(" + "!" * 20_000 + "true) }",
    "ASK { FILTER(" + "1+" * 8_000 + "1) }",
    "ASK { FILTER(" + "-" * 20_000 + "1 = 1) }",
    # a '<' the engine reads as less-than, though `<((…)))FILTER(2>` has the form of an IRIREF
    "ASK { FILTER(1<" + "(" * 20_000 + "1" + ")" * 20_000 + ")FILTER(2>1) }",
], ids=["escaped-parens-then-20000", "one-escaped-paren-then-20000", "20000-nots", "8000-plus", "20000-minus",
        "less-than-like-an-iri"])
def test_deep_queries_are_rejected_before_the_engine(text):
    with pytest.raises(QueryRejected, match="nested"):
        check(scan(text, PREFIX_ITEMS), max_nesting=MAX_NESTING)


LINEAR = """
import time
from kg.store.guard import scan

def took(kb, repeat):
    best = float("inf")
    for i in range(repeat):
        text = "a-" * (kb * 512) + " " * i  # a new text each time: no cache
        started = time.perf_counter()
        scan(text)
        best = min(best, time.perf_counter() - started)
    print(best, flush=True)

took(16, 3)
took(96, 1)
took(160, 2)
"""
RATIO = 30  # 10 times the text: a linear scan takes about 10 times as long


def test_scanning_is_linear_in_the_text():
    """Item 5: `a-a-a-…` was quadratic (16 KB: 4.5 s). The scans run in a child process, which is stopped once the
    larger texts have taken RATIO times the 16 KB scan each, so that a quadratic scan cannot hold the test run."""
    child = subprocess.Popen([sys.executable, "-c", LINEAR], stdout=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(child.stdout), daemon=True)
    reader.start()
    try:
        while not lines and reader.is_alive():
            reader.join(0.05)
        small = float(lines[0])
        reader.join(2 * RATIO * small + 5)  # the 96 KB scan once and the 160 KB scan twice: 26 times, if linear
        assert len(lines) == 3, f"scanning 96 KB and 160 KB took more than {RATIO} times 16 KB's {small:.4f} s"
        medium, large = float(lines[1]), float(lines[2])
        assert large / small < RATIO, f"16 KB: {small:.4f} s, 160 KB: {large:.4f} s"
        print(f"scan of a-a-a-…: 16 KB {small * 1e3:.1f} ms, 96 KB {medium * 1e3:.1f} ms, 160 KB {large * 1e3:.1f} ms")
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
