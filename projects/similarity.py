"""The words the duplicate-project warning compares, and how alike two projects are.

Pure Python, no Django: `Project.save()` stores `normalise(title)` and `normalise(aim)` in
`match_title` and `match_aim`, and `selectors.similar_projects` compares those columns,
with pg_trgm's `similarity()` on PostgreSQL (a GIN trigram index serves the `%` prefilter)
and with `trigram_similarity()` below on SQLite. Both give the same numbers, to the bit:
the labelled pairs in tests/projects/duplicate_pairs.py are scored on both backends.

Changing `normalise()` changes what is stored: add a migration that refills the two
columns (see projects/migrations/0003_project_match_text.py).
"""

from __future__ import annotations

import re
import struct
import unicodedata

# Two projects are "similar" (the register warns) at or above this score. Chosen on the
# labelled pairs (tests/projects/duplicate_pairs.py): from 0.38 to 0.45 no distinct pair
# scores this high and one duplicate in 33 scores lower; 0.4 is the middle of that band.
# It must stay above pg_trgm's default `pg_trgm.similarity_threshold` (0.3): PostgreSQL
# narrows the candidates with the `%` operator at that threshold, and a project scoring
# 0.4 has a title or an aim at least 0.4 alike.
SIMILARITY_THRESHOLD = 0.4
PG_TRGM_THRESHOLD = 0.3
if SIMILARITY_THRESHOLD <= PG_TRGM_THRESHOLD:
    raise ValueError("SIMILARITY_THRESHOLD must stay above pg_trgm's threshold")

# ---- normalising ---------------------------------------------------------------------------

# Ordinary English words; words every QI title or aim uses ("reduce", "improve", "project",
# "compliance", "by March 2027"); and words that say where or for whom in every project
# ("patient", "care"). Left in, they make unrelated projects look alike.
STOP_WORDS = frozenset(
    """a about across after again all also an and any are as at be been before being below
    between both but by can do does during each every for from further had has have how i
    if in into is it its just of off on once only or other our out over own per same so
    some such than that the their them then there these they this those through to too
    under until up upon us using via was we were what when where which while who why will
    with within without would your
    project projects programme programmes improve improving improved improvement
    improvements reduce reducing reduced reduction increase increasing increased decrease
    decreasing decreased better best good qi quality pilot new enhance enhancing
    optimise optimising optimize optimizing ensure ensuring achieve achieving aim aims
    prevent preventing prevention avoid avoiding avoidable minimise minimising eliminate
    eliminating eradicate fewer less lower higher more most least zero support supporting
    sustain sustained compliance adherence uptake rate rates number numbers proportion
    percentage percent cent risk assessment audit data measure measured time times timely
    patient patients inpatient inpatients people care trust trustwide hospital wide whole
    get give given receive receiving sent send make made
    target baseline day days week weeks weekly month months monthly year years annual
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec""".split()
)

# Where in a hospital: "Ward 7", "wards 7 and 8", "Bay B", "Unit 4a" are dropped, number
# and all, so two wards' falls projects meet and a ward never tells topics apart. (Keeping
# the bare word "ward" made every ward's projects look alike: on the labelled pairs it
# cost precision and left a narrow band of usable thresholds; see bench/RESULTS.md.)
PLACES = frozenset("ward bay unit room".split())
_PLACE_ID = re.compile(r"^(\d+[a-z]?|[a-z])$")

# Words read as another before anything else: numbers in words, and "NEWS" (the early
# warning score; the stemmer would make it "new", a stop word).
SAME_AS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "twelve": "12", "news": "news2",
}

# Common NHS abbreviations, both ways: the abbreviation and its long form become one word.
# A setting becomes its short code ("ed", "icu"), so a shared place counts for little; a
# topic becomes its long form run together ("acutekidneyinjury"), so a shared topic counts
# for a lot and two short codes (AKI, UTI) do not look alike. Matched after stemming,
# longest phrase first.
SETTINGS = {
    "ed": ["ed", "emergency department", "accident and emergency", "ae", "a and e",
           "casualty"],
    "icu": ["icu", "itu", "intensive care", "intensive care unit", "intensive therapy unit",
            "critical care", "critical care unit"],
    "amu": ["amu", "acute medical unit", "medical assessment unit", "mau"],
    "sdec": ["sdec", "same day emergency care"],
    "gp": ["gp", "general practice", "general practitioner"],
}
TOPICS = {
    "venousthromboembolism": ["vte", "venous thromboembolism", "venous thrombo embolism"],
    "acutekidneyinjury": ["aki", "acute kidney injury"],
    "urinarytractinfection": ["uti", "urinary tract infection"],
    "catheterassociatedurinarytractinfection": [
        "cauti", "catheter associated urinary tract infection"],
    "chronicobstructivepulmonarydisease": ["copd", "chronic obstructive pulmonary disease"],
    # "NEWS" is read as "news2" first (SAME_AS), so "NEWS 2" arrives as "news2 2".
    "nationalearlywarningscore": ["news2", "news2 2", "news2 score",
                                  "national early warning score",
                                  "national early warning score 2"],
    "didnotattend": ["dna", "did not attend", "was not brought"],
    "lengthofstay": ["los", "length of stay"],
    "endoflife": ["eol", "end of life"],
    "noninvasiveventilation": ["niv", "non invasive ventilation"],
    "donotattemptresuscitation": ["dnacpr", "dnar", "do not attempt resuscitation",
                                  "do not attempt cardiopulmonary resuscitation"],
    "mrsa": ["mrsa", "meticillin resistant staphylococcus aureus",
             "methicillin resistant staphylococcus aureus"],
    "clostridioidesdifficile": ["cdiff", "c diff", "c difficile", "clostridium difficile",
                                "clostridioides difficile"],
}
ABBREVIATIONS = {**SETTINGS, **TOPICS}

_WORD = re.compile(r"[a-z0-9]+")
_PERCENT = re.compile(r"\d+(?:\.\d+)?\s*(?:%|per\s*cent\b|percent\b)")
_A_AND_E = re.compile(r"\ba\s*&\s*e\b")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_VOWEL = re.compile(r"[aeiouy]")


def stem(word: str) -> str:
    """A light English stemmer: plurals, -ing/-ed, -tion/-sion, -ment, -ly, a final e.

    reduce, reduces, reduced, reducing, reduction → "reduc"; falls, falling → "fall";
    antibiotics → "antibiotic"; injuries → "injury"; prevention → "prevent". Words of three
    letters or fewer (abbreviations: ED, VTE, AKI) and numbers are left alone.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    # Plurals (after Harman's S-stemmer): sepsis, status and stress keep their s.
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith(("xes", "ches", "shes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    # One ending, longest first; what is left keeps a vowel and enough letters (more for
    # -ment and -ly, so "document" and "family" stay whole); "need" and "bleed" keep -ed.
    for suffix, replacement, shortest in (
        ("uction", "uc", 3), ("ation", "at", 3), ("tion", "t", 3), ("sion", "s", 3),
        ("ment", "", 5), ("ness", "", 3), ("ing", "", 3), ("ed", "", 3), ("ly", "", 5),
    ):
        if word.endswith(suffix):
            base = word[: -len(suffix)] + replacement
            if len(base) >= shortest and _VOWEL.search(base) and not word.endswith("eed"):
                word = base
                if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2] \
                        and word[-1] not in "lsz":
                    word = word[:-1]  # stopped → stop, planned → plan; falling → fall
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]  # reduce → reduc, nurse → nurs, to meet reducing and nursing
    return word


STOP_STEMS = frozenset(STOP_WORDS | {stem(w) for w in STOP_WORDS})


def _phrase_table() -> dict[tuple[str, ...], str]:
    table = {}
    for canonical, forms in ABBREVIATIONS.items():
        for form in forms:
            table[tuple(stem(w) for w in _WORD.findall(form))] = canonical
    return table


_PHRASES = _phrase_table()
# One-word abbreviations, whose plural ("AKIs", "UTIs") the stemmer would not undo.
_SHORT_FORMS = frozenset(key[0] for key in _PHRASES if len(key) == 1)
_LONGEST_PHRASE = max(len(key) for key in _PHRASES)


def words(text: str) -> list[str]:
    """The meaningful words of `text`, normalised, in order, each once."""
    text = unicodedata.normalize("NFKD", (text or "").lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("'", "").replace("\u2019", "")  # children's → childrens
    text = _A_AND_E.sub(" ae ", text)
    text = _PERCENT.sub(" ", text)  # "by 30%": how much, not what
    raw = [
        w[:-1] if w.endswith("s") and not w.endswith("ss") and w[:-1] in _SHORT_FORMS
        else SAME_AS.get(w, w)
        for w in _WORD.findall(text)
    ]
    stems = [stem(w) for w in raw]
    out: list[str] = []
    i = 0
    while i < len(stems):
        for size in range(min(_LONGEST_PHRASE, len(stems) - i), 0, -1):
            short = _PHRASES.get(tuple(stems[i : i + size]))
            if short:
                out.append(short)
                i += size
                break
        else:
            word, original = stems[i], raw[i]
            i += 1
            if word in PLACES:
                # The place, its number or letter, and any list of them ("7 and 8").
                while i < len(stems) and (
                    _PLACE_ID.match(raw[i])
                    or (raw[i] == "and" and i + 1 < len(stems) and _PLACE_ID.match(raw[i + 1]))
                ):
                    i += 1
                continue
            if word in STOP_STEMS or original in STOP_WORDS or _YEAR.match(word):
                continue
            out.append(word)
    return list(dict.fromkeys(out))


def normalise(text: str) -> str:
    """What `Project.match_title` / `match_aim` store: the words, space-separated."""
    return " ".join(words(text))


# ---- comparing: pg_trgm's similarity(), in Python --------------------------------------------


def trigrams(text: str) -> frozenset[str]:
    """pg_trgm's trigram set: each word padded as "  word " and cut into threes.

    The text is already normalised (lower case, [a-z0-9] words), as pg_trgm would make it.
    """
    found = set()
    for word in _WORD.findall(text):
        padded = f"  {word} "
        found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(found)


def _real(value: float) -> float:
    """`value` as PostgreSQL's `real` (single precision) holds it."""
    return struct.unpack("f", struct.pack("f", value))[0]


def set_similarity(ta: frozenset[str], tb: frozenset[str]) -> float:
    """pg_trgm's `similarity()` of two trigram sets: shared / all distinct, as a real."""
    if not ta or not tb:
        return 0.0
    shared = len(ta & tb)
    return _real(shared / (len(ta) + len(tb) - shared))


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's `similarity(a, b)` for normalised texts."""
    return set_similarity(trigrams(a), trigrams(b))


def combine(title_score: float, aim_score: float) -> float:
    """How alike two projects are (0–1): the title's similarity, or the mean of title and
    aim when that is higher, so a new title for an old aim is still caught and adding an
    aim never hides a warning. Rounded as PostgreSQL's real arithmetic rounds it, so
    `selectors.similar_projects` computes the same number in SQL."""
    return max(title_score, _real(_real(title_score + aim_score) / 2))


def score(title_a: str, title_b: str, aim_a: str = "", aim_b: str = "") -> float:
    """How alike two projects are, from their raw titles and aims."""
    return combine(
        trigram_similarity(normalise(title_a), normalise(title_b)),
        trigram_similarity(normalise(aim_a), normalise(aim_b)),
    )
