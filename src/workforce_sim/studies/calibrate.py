"""Fitting a scenario to a council's own data, and backtesting projections.

Reads three CSV files from a folder (formats in docs/data-formats.md), all aggregate or
pseudonymised:

- ``contacts.csv``: month, source, contacts, referrals (monthly counts by source);
- ``staff.csv``: staff_id (a pseudonymous code), grade, contract, fte, start_date, end_date;
- ``closed_cases.csv``: case_id (pseudonymous), type, start_date, end_date, outcome.

Demand is fitted by Poisson regression (log link, working days in each month as exposure): a
level and a trend for each source and one seasonal profile; standard errors come from the
Fisher information. Leaving hazards are leavers over years at risk, by grade and contract.
Plan durations (gamma, by mean and coefficient of variation) and where plans end come from
closed cases. The result is a scenario that extends the baseline, with each fitted value's
standard error beside it as a comment.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..scenario import tomlout
from ..scenario.calendar import england_bank_holidays, next_month
from ..scenario.distributions import CV_MAX, CV_MIN
from ..scenario.loading import bundled_path, load_scenario, resolve_path
from ..scenario.schema import GRADES

PLAN_TYPES = ("cin", "cp", "cla")
MIN_SOURCE_MONTHS = 13  # months with contacts a source needs for its own level, trend and place in the seasonality
ENDS = ("close", "early_help", "cin", "cp", "cla")
ASSESSMENT_OUTCOMES = ("nfa", "early_help", "cin", "cp", "cla")

# Column names that identify people. workforce_sim reads aggregate or pseudonymised data only.
PERSONAL = [
    (r"(^|_)(first|fore|sur|last|full|family|given|middle|maiden|child|person|pupil|client)?_?name(s)?($|_)", "a name"),
    (r"(^|_)initials?($|_)", "initials"),
    (r"(^|_)(dob|date_of_birth|birth_?date|birthday)($|_)", "a date of birth"),
    (r"(^|_)(nhs|chi)(_?no|_?number|_?num)?($|_)", "an NHS number"),
    (r"(^|_)(ni_?no|ni_?number|ni_?num|national_insurance|nino)($|_)", "a National Insurance number"),
    (r"(^|_)(e_?mail|e_?mail_?address|phone|telephone|tel_?no|mobile)($|_)", "contact details"),
    (r"(^|_)(address|street|postcode|post_code|zip)($|_)", "an address"),
    (r"(^|_)(upn|unique_pupil_number|pupil_?(no|num|number|ref|id))($|_)", "a unique pupil number"),
    (r"(^|_)(uln|unique_learner_number|learner_?(no|num|number|ref))($|_)", "a unique learner number"),
]

# Values that identify people, wherever they appear (see _identifier).
_NHS = re.compile(r"(?<![\w-])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\w-])")
_ULN = re.compile(r"(?<![\w-])([1-9]\d{9})(?![\w-])")
_NINO = re.compile(r"(?<![A-Z0-9])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
                   r" ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Z0-9])", re.IGNORECASE)
_POSTCODE = re.compile(r"(?<![A-Z0-9])(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]"
                       r"|[A-HK-Y][0-9][ABEHMNPRVWXY]) ?[0-9][ABD-HJLNP-UW-Z]{2})(?![A-Z0-9])", re.IGNORECASE)
_EMAIL = re.compile(r"[A-Z0-9._%+'-]+@[A-Z0-9-]+(\.[A-Z0-9-]+)*\.[A-Z]{2,}", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w+])(\+44\s?(\(0\)\s?)?|\(?0)[\d\s()-]{8,16}\d(?![\w-])")
_UPN = re.compile(r"(?<![A-Z0-9])([A-HJ-NP-RT-Z])(\d{11}[0-9A-HJ-NP-RT-Z])(?![A-Z0-9])")
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # DfE's 23 letters for UPN check letters (no I, O or S)
_NAME_WORD = r"[A-Z][a-z]+(?:['-][A-Z]?[a-z]+)*"
_INITIALS_NAME = re.compile(rf"(?:[A-Z]\.\s?){{1,3}}{_NAME_WORD}|(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+{_NAME_WORD}")
# Common given names in England and Wales, to tell "John Smith" from "Health services".
GIVEN_NAMES = set("""
adam aaron abigail adrian aisha alan albert alex alexander alexandra alfie alice alison amanda amber amelia amy
andrew angela ann anna anne anthony archie arthur ava barbara ben benjamin beth bethany bill brian callum carl
carol caroline catherine charlie charles charlotte chloe chris christine christopher claire connor craig daisy
daniel darren david dean deborah denise dennis diane dominic donna dylan edward eleanor elizabeth ella ellie emily
emma eric ethan evie freddie frederick gareth gary gemma george georgia gillian graham hannah harry harvey hayley
heather helen henry holly ian isaac isabella isabelle isla jack jacob jacqueline jake james jamie jane janet jason
jayden jennifer jessica joan joanne joe john jonathan joseph joshua julie karen kate katherine kathleen katie
kayleigh keith kelly kevin kieran kyle laura lauren leah lee leo lewis liam lily linda lisa logan louis louise lucy
luke margaret maria mark martin mary matthew megan melissa mia michael michelle mohammed muhammad natalie nathan
neil nicholas nicola noah oliver olivia oscar patricia paul peter philip rachel rebecca richard robert ruby ryan
samantha samuel sandra sarah scott sean sharon shaun sophia sophie stephen steven stuart susan teresa thomas
tracey tyler victoria william zara zoe
""".split())
# Words that end the names of services, not people ("Victoria Hospital", "Grace Academy").
_NOT_SURNAMES = set("""
academy agency association care centre children college council court department family health hospital house
nursery office partnership police practice probation school schools service services station support surgery
team trust unit visitor visitors youth
""".split())


FORMATS: dict[str, dict[str, str | tuple[str, ...]]] = {  # each file's columns and the kind of value in each
    "contacts.csv": {"month": "month", "source": "text", "contacts": "count", "referrals": "count"},
    "staff.csv": {"staff_id": "text", "grade": GRADES, "contract": ("permanent", "agency"), "fte": "fte",
                  "start_date": "date", "end_date": "date?"},
    "closed_cases.csv": {"case_id": "text", "type": ("assessment",) + PLAN_TYPES, "start_date": "date",
                         "end_date": "date", "outcome": tuple(sorted(set(ENDS + ASSESSMENT_OUTCOMES)))},
}


class DataError(ValueError):
    """A data file is missing, malformed or holds personal identifiers."""


# -- reading --------------------------------------------------------------------------------
def _personal(column: str) -> str | None:
    key = re.sub(r"[^a-z0-9]+", "_", column.strip().lower()).strip("_")
    for pattern, what in PERSONAL:
        if re.search(pattern, key):
            return what
    return None


def _nhs_valid(digits: str) -> bool:
    """The NHS number modulus-11 check: weights 10..2 on the first nine digits give the tenth."""
    check = 11 - sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1))) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _uln_valid(digits: str) -> bool:
    """The unique learner number check: weights 10..2 on the first nine digits; 10 minus the remainder mod 11."""
    r = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1))) % 11
    return r != 0 and 10 - r == int(digits[9])


def _upn_valid(letter: str, rest: str) -> bool:
    """DfE's UPN check letter: characters 2 to 13 weighted 2 to 13, the sum modulo 23 names the letter."""
    total = sum((int(c) if c.isdigit() else _UPN_LETTERS.index(c)) * w for c, w in zip(rest, range(2, 14)))
    return _UPN_LETTERS[total % 23] == letter


def _phone_valid(text: str) -> bool:
    """Whether a candidate is a UK phone number: 10 or 11 digits from 01, 02, 03, 05, 07 or 08 (or +44)."""
    digits = re.sub(r"\D", "", text)
    national = "0" + digits[2:].removeprefix("0") if text.lstrip().startswith("+") else digits
    return len(national) in (10, 11) and national[:2] in ("01", "02", "03", "05", "07", "08")


def _person_name(text: str) -> bool:
    """Whether ``text`` is a person's name: "John Smith", "Smith, John", "J. Smith", "Mrs Smith"."""
    if _INITIALS_NAME.fullmatch(text):
        return True
    if "," in text:
        surname, _, forenames = (t.strip() for t in text.partition(","))
        parts = forenames.split()
        return bool(parts) and " " not in surname and _person_name(f"{parts[0]} {surname}")
    words = text.split()
    if not 2 <= len(words) <= 4 or words[0].lower() not in GIVEN_NAMES:
        return False
    return all(re.fullmatch(_NAME_WORD, w.capitalize()) and w.lower() not in _NOT_SURNAMES for w in words[1:])


def _identifier(value: str, kind) -> str | None:
    """What personal identifier ``value`` holds, if any (a description such as "an NHS number"), else None.

    Checked anywhere in the value: NHS numbers (with the modulus-11 check), unique learner
    numbers (with their check digit), unique pupil numbers (with DfE's check letter), National
    Insurance numbers, UK postcodes, e-mail addresses and UK phone numbers. A whole value that
    is a person's name is refused in columns of text or categories. Counts and dates that are
    plain numbers or dates are not checked.
    """
    v = value.strip()
    if not v:
        return None
    if kind in ("count", "fte") and re.fullmatch(r"\d+(\.\d*)?", v):
        return None
    if kind in ("date", "date?", "month") and re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", v):
        return None
    if any(_nhs_valid("".join(m.groups())) for m in _NHS.finditer(v)):
        return "an NHS number"
    if any(_uln_valid(m.group(1)) for m in _ULN.finditer(v)):
        return "a unique learner number"
    if any(_upn_valid(*m.groups()) for m in _UPN.finditer(v.upper())):
        return "a unique pupil number"
    if _NINO.search(v):
        return "a National Insurance number"
    if _EMAIL.search(v):
        return "an e-mail address"
    if any(_phone_valid(m.group(0)) for m in _PHONE.finditer(v)):
        return "a phone number"
    if _POSTCODE.search(v):
        return "a postcode"
    if kind not in ("count", "fte", "date", "date?", "month") and _person_name(v):
        return "a person's name"
    return None


def _shape(raw: str) -> str:
    """What is wrong with a value, in words that never repeat it (a data file may hold personal data)."""
    v = raw.strip()
    if not v:
        return "is empty"
    if any(ch.isalpha() for ch in v):
        return "holds letters"
    if v.startswith("-"):
        return "is negative"
    if any(ch.isspace() for ch in v):
        return "holds spaces"
    return "is not of that form"


def _bad(where: str, raw: str, expected: str, shape: str | None = None) -> DataError:
    """A value that cannot be read: the file, line and column, what is wrong and what was expected; never the value
    itself, which may be personal data written in the wrong column (it would end up in logs and screenshots)."""
    return DataError(f"{where}: the value {shape or _shape(raw)}; it must be {expected} (the value is not shown, to "
                     "keep personal data out of logs)")


def _parse(kind, raw: str, where: str):
    v = raw.strip()
    if kind == "text":
        if not v:
            raise DataError(f"{where} is empty")
        return v
    if kind == "count":
        if not re.fullmatch(r"\d+", v):
            raise _bad(where, raw, "a whole number of 0 or more")
        return int(v)
    if kind == "fte":
        try:
            x = float(v)
        except ValueError:
            raise _bad(where, raw, "a number above 0 and at most 1") from None
        if not 0 < x <= 1:
            raise DataError(f"{where}: must be a number above 0 and at most 1, such as 0.5 for half time")
        return x
    if kind == "month":
        try:
            d = dt.date.fromisoformat(v + "-01")
        except ValueError:
            raise _bad(where, raw, "a month written YYYY-MM, e.g. 2018-04") from None
        if not 1900 <= d.year <= 2100:
            raise DataError(f"{where}: must be a month between 1900 and 2100")
        return d
    if kind in ("date", "date?"):
        if not v and kind == "date?":
            return None
        try:
            d = dt.date.fromisoformat(v)
        except ValueError:
            raise _bad(where, raw, "a date written YYYY-MM-DD") from None
        if not 1900 <= d.year <= 2100:
            raise DataError(f"{where}: must be a date between 1900 and 2100")
        return d
    if isinstance(kind, tuple):
        if v not in kind:
            raise _bad(where, raw, f"one of {', '.join(kind)}", "is none of these")
        return v
    raise AssertionError(kind)


MAX_SOURCES = 200  # more is not a council's list of referral sources; the fit's matrix grows with its square


def _read_text(path: Path) -> str:
    """The file's text, or a DataError naming the line where it stops being UTF-8 text."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise DataError(f"{path}: line {line}: not UTF-8 text. Save the file as UTF-8 CSV (in Excel: Save As, "
                        f"'CSV UTF-8 (Comma delimited)') and try again.") from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise DataError(f"{path}: line {line}: holds a NUL character, so it is not a CSV text file")
    return text


class _Consistency:
    """Checks across the rows of one file: no row twice, ends after starts, a sane number of sources."""

    def __init__(self, path: Path):
        self.path = path
        self.seen: dict[tuple, int] = {}  # a row's key -> the line it is on
        self.sources: set[str] = set()

    def _once(self, key, what: str, line: int) -> None:
        if key in self.seen:
            raise DataError(f"{self.path}: line {line}: {what} twice (also on line {self.seen[key]}). "
                            f"Each should appear once: remove the repeated row, or add the rows together.")
        self.seen[key] = line

    def check(self, name: str, row: dict, line: int) -> None:
        """Refuse ``row`` (read from ``line``) if it repeats an earlier row or contradicts itself."""
        if name == "contacts.csv":
            m, src = row["month"], row["source"]
            if src not in self.sources:
                if len(self.sources) >= MAX_SOURCES:
                    raise DataError(f"{self.path}: line {line}: a {MAX_SOURCES + 1}st source; at most {MAX_SOURCES} "
                                    f"sources can be fitted. Group small sources together (for example as 'other').")
                self.sources.add(src)
            self._once((m, src), f"month {m:%Y-%m} and source {src} appear", line)
            return
        start, end = row["start_date"], row["end_date"]
        if end is not None and end < start:
            raise DataError(f"{self.path}: line {line}: end_date {end} is before start_date {start}")
        if name == "staff.csv":
            self._once((row["staff_id"], start), f"staff_id {row['staff_id']} starting {start} appears", line)
        else:
            self._once((row["case_id"], row["type"], start),
                       f"case_id {row['case_id']} ({row['type']}, starting {start}) appears", line)


def read_table(path: Path) -> list[dict]:
    """Rows of one data file, checked against its format and for consistency; personal identifiers are refused.

    Every problem is a :class:`DataError` naming the file and line (and column); a value that
    looks like a personal identifier is described, never printed.
    """
    path = Path(path)
    name = path.name
    spec = FORMATS[name]
    if not path.is_file():
        raise DataError(f"{path}: not found; a calibration folder needs {', '.join(FORMATS)} "
                        "(see docs/data-formats.md)")
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path}: is empty; expected a header row with {', '.join(spec)}")
        cols = [c.strip() for c in header]
        for c in cols:
            what = _personal(c)
            if what:
                raise DataError(f"{path}: column {c!r} looks like {what}. workforce_sim reads only aggregate or "
                                f"pseudonymised data: remove the column (people may be identified by a made-up code "
                                f"such as staff_id or case_id).")
        twice = sorted({c for c in cols if c and cols.count(c) > 1})
        if twice:
            raise DataError(f"{path}: column(s) {', '.join(twice)} appear more than once in the header")
        missing = [c for c in spec if c not in cols]
        if missing:
            hint = (" (the file seems to use semicolons: save it with commas between values)"
                    if ";" in ",".join(header) else "")
            raise DataError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(spec)}{hint}")
        rows, consistency = [], _Consistency(path)
        line = reader.line_num + 1
        for fields in reader:
            next_line = reader.line_num + 1  # a quoted value may span lines: a row is named by its first line
            if any(f.strip() for f in fields):
                if len(fields) != len(cols):
                    raise DataError(f"{path}: line {line}: {len(fields)} fields, but the header has {len(cols)} "
                                    f"columns. Check for a stray comma, or put quotes around a value that holds one.")
                for c, v in zip(cols, fields):
                    what = _identifier(v, spec.get(c))
                    if what:
                        raise DataError(f"{path}: line {line}, column {c}: this value looks like {what}. "
                                        "workforce_sim reads only aggregate or pseudonymised data: remove it, or use "
                                        "a made-up code instead (the value is not shown here, to keep it out of "
                                        "logs).")
                row = {c: _parse(spec[c], v, f"{path}: line {line}, column {c}")
                       for c, v in zip(cols, fields) if c in spec}
                consistency.check(name, row, line)
                rows.append(row)
            line = next_line
    except csv.Error as exc:
        raise DataError(f"{path}: line {reader.line_num}: not a readable CSV row ({exc})") from None
    if not rows:
        raise DataError(f"{path}: has no rows")
    return rows


# -- fitting demand -------------------------------------------------------------------------
def _month_days(months: list[dt.date]) -> np.ndarray:
    hol = np.array(england_bank_holidays(months[0].year - 1, months[-1].year + 1), dtype="datetime64[D]")
    cal = np.busdaycalendar(weekmask="1111100", holidays=hol)
    ends = [next_month(m) for m in months]
    return np.busday_count(np.array(months, dtype="datetime64[D]"), np.array(ends, dtype="datetime64[D]"),
                           busdaycal=cal).astype(float)


def poisson_glm(X: np.ndarray, y: np.ndarray, offset: np.ndarray, iters: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Poisson regression with log link by iteratively reweighted least squares: (coefficients, covariance)."""
    beta = np.zeros(X.shape[1])
    beta[0] = math.log(max(y.mean(), 1e-9) / math.exp(offset.mean()))
    with np.errstate(all="ignore"):  # a fit that goes wrong is told below in words, not by numpy's warnings
        try:
            for _ in range(iters):
                eta = X @ beta + offset
                mu = np.exp(eta)
                z = eta - offset + (y - mu) / mu
                XtW = X.T * mu
                new = np.linalg.solve(XtW @ X, XtW @ z)
                if np.max(np.abs(new - beta)) < 1e-10:
                    beta = new
                    break
                beta = new
            mu = np.exp(X @ beta + offset)
            cov = np.linalg.inv((X.T * mu) @ X)
        except np.linalg.LinAlgError:
            cov = np.full((len(beta), len(beta)), np.nan)
    if not (np.isfinite(beta).all() and np.isfinite(cov).all()):
        raise DataError("contacts.csv: the contacts could not be fitted (a level, a trend and seasonality for each "
                        "source): check that each source has contacts in most months, or leave out a source with "
                        "few")
    return beta, cov


@dataclass
class DemandFit:
    """The fitted Poisson model of contacts: coefficients, their covariance and each source's referral share."""

    months: list[dt.date]
    sources: list[str]
    beta: np.ndarray
    cov: np.ndarray
    days_per_year: float
    referral_share: dict[str, tuple[float, float]]
    t_end: float
    thin: dict[str, tuple[float, int]] = field(default_factory=dict)  # source -> (contacts a working day, months)

    def warnings(self) -> list[str]:
        """What the fit could not do, in words: the sources seen in too few months to fit."""
        return [f"Warning: contacts.csv: source {src} has contacts in {_months(n)}, too few to fit its trend and "
                f"level (at least {MIN_SOURCE_MONTHS} are needed); it is written with its average over those months "
                "and no trend: check it" for src, (_, n) in self.thin.items()]

    def _idx(self, s: int) -> tuple[int, int]:
        return 1 + s, 1 + len(self.sources) + s  # level, trend columns (column 0 is the baseline level)

    def seasonality(self) -> tuple[np.ndarray, np.ndarray]:
        """Each calendar month's factor (January..December, averaging 1) and its standard error."""
        k = len(self.sources)
        g = np.concatenate([[0.0], self.beta[1 + 2 * k:]])
        f = np.exp(g)
        scale = f.mean()
        se = np.concatenate([[0.0], np.sqrt(np.diag(self.cov)[1 + 2 * k:])]) * f / scale
        return f / scale, se

    def log_rate(self, s: int, years: float, month: int) -> tuple[float, np.ndarray]:
        """Log contacts per working day for source s, ``years`` after the first month, in a calendar month."""
        x = np.zeros(len(self.beta))
        x[0] = 1.0
        a, b = self._idx(s)
        if s > 0:
            x[a] = 1.0
        x[b] = years
        if month > 1:
            x[1 + 2 * len(self.sources) + month - 2] = 1.0
        return float(x @ self.beta), x

    def per_year(self, s: int, years: float) -> tuple[float, float]:
        """Contacts a year (seasonally averaged) for source s at ``years``, with its standard error."""
        season, _ = self.seasonality()
        lr, x = self.log_rate(s, years, 1)
        # month 1 effect is the reference; rescale to the average month
        value = math.exp(lr) / season[0] * self.days_per_year
        se = value * math.sqrt(max(float(x @ self.cov @ x), 0.0))
        return value, se

    def trend(self, s: int) -> tuple[float, float]:
        """Yearly growth in contacts for source s, with its standard error."""
        _, b = self._idx(s)
        g = math.exp(self.beta[b])
        return g - 1.0, g * math.sqrt(max(float(self.cov[b, b]), 0.0))


def fit_demand(rows: list[dict]) -> DemandFit:
    """Fit a level and trend for each source and one seasonal profile to monthly contacts (rows of contacts.csv)."""
    months = sorted({r["month"] for r in rows})
    sources = sorted({r["source"] for r in rows})
    if len(months) < 13:
        raise DataError(f"contacts.csv: {len(months)} months of data; at least 13 are needed to estimate a trend and "
                        "seasonality")
    mi = {m: i for i, m in enumerate(months)}
    days = _month_days(months)
    thin = _thin_sources(rows, sources, days, mi)
    sources = [s for s in sources if s not in thin]
    if not sources:
        raise DataError(f"contacts.csv: no source has contacts in at least {MIN_SOURCE_MONTHS} months, too few to fit "
                        "a trend and seasonality")
    all_rows, rows = rows, [r for r in rows if r["source"] not in thin]
    si = {s: i for i, s in enumerate(sources)}
    k = len(sources)
    n_cols = 1 + 2 * k + 11
    x_rows: list[np.ndarray] = []
    y, off = [], []
    for r in rows:
        m, s = r["month"], si[r["source"]]
        x = np.zeros(n_cols)
        x[0] = 1.0
        if s > 0:
            x[1 + s] = 1.0
        x[1 + k + s] = (mi[m] + 0.5) / 12.0  # years since the first month, at mid-month
        if m.month > 1:
            x[1 + 2 * k + m.month - 2] = 1.0
        x_rows.append(x)
        y.append(r["contacts"])
        off.append(math.log(days[mi[m]]))
    # source 0 has no level column of its own: the baseline level is its level
    X = np.delete(np.array(x_rows), 1, axis=1)
    beta, cov = poisson_glm(X, np.array(y, float), np.array(off))
    beta = np.insert(beta, 1, 0.0)
    cov = np.insert(np.insert(cov, 1, 0.0, axis=0), 1, 0.0, axis=1)
    shares = {}
    for s in [*sources, *thin]:
        c = sum(r["contacts"] for r in all_rows if r["source"] == s)
        f = sum(r["referrals"] for r in all_rows if r["source"] == s)
        if f > c:
            raise DataError(f"contacts.csv: source {s} has more referrals ({f}) than contacts ({c})")
        p = f / c if c else 0.0
        shares[s] = (p, math.sqrt(p * (1 - p) / c) if c else 0.0)
    return DemandFit(months, sources, beta, cov, days.sum() / (len(months) / 12.0), shares, len(months) / 12.0,
                     thin)


def _months(n: int) -> str:
    return "no month" if n == 0 else "1 month" if n == 1 else f"{n} months"


def _thin_sources(rows: list[dict], sources: list[str], days: np.ndarray,
                  mi: dict[dt.date, int]) -> dict[str, tuple[float, int]]:
    """Sources with contacts in fewer than :data:`MIN_SOURCE_MONTHS` months (issue 26, item 4: one month made the
    fit's matrix singular, or its seasonality nan): their contacts a working day over the months they appear in, and
    how many months have contacts. They are written with that level and no trend, and the user is warned."""
    out = {}
    for src in sources:
        mine = [r for r in rows if r["source"] == src]
        with_contacts = {r["month"] for r in mine if r["contacts"] > 0}
        if len(with_contacts) < MIN_SOURCE_MONTHS:
            seen = sorted({mi[r["month"]] for r in mine})
            out[src] = (sum(r["contacts"] for r in mine) / float(days[seen].sum()), len(with_contacts))
    return out


# -- fitting staff and cases ----------------------------------------------------------------
def fit_leaving(rows: list[dict], start: dt.date,
                end: dt.date) -> dict[tuple[str, str], tuple[float, float, int, float]]:
    """(grade, contract) -> (yearly leaving probability, its standard error, leavers, years at risk)."""
    out: dict[tuple[str, str], tuple[float, float, int, float]] = {}
    for g in GRADES:
        for c in ("permanent", "agency"):
            mine = [r for r in rows if r["grade"] == g and r["contract"] == c]
            if not mine:
                continue
            exposure = 0.0
            leavers = 0
            for r in mine:
                a = max(r["start_date"], start)
                b = min(r["end_date"] or end, end)
                if b > a:
                    exposure += (b - a).days / 365.25 * r["fte"]
                if r["end_date"] is not None and start <= r["end_date"] < end:
                    leavers += 1
            if exposure <= 0:
                continue
            h = leavers / exposure
            se_h = math.sqrt(max(leavers, 1)) / exposure
            out[(g, c)] = (1 - math.exp(-h), math.exp(-h) * se_h, leavers, exposure)
    return out


def fit_cases(rows: list[dict]) -> dict:
    """Plan durations (weeks) and where plans end, and assessment outcomes, from closed cases."""
    out = {}
    for t in PLAN_TYPES:
        mine = [r for r in rows if r["type"] == t]
        if len(mine) < 10:
            continue
        weeks = np.array([(r["end_date"] - r["start_date"]).days / 7.0 for r in mine])
        weeks = weeks[weeks > 0]
        if len(weeks) < 10:  # most closed on the day they opened: too few durations to fit (the parent's are kept)
            continue
        mean, sd = weeks.mean(), weeks.std(ddof=1)
        ends = {e: sum(r["outcome"] == e for r in mine) for e in ENDS if e != t}
        n = sum(ends.values())
        cv = min(max(sd / mean, CV_MIN), CV_MAX)  # within what a gamma distribution can draw
        out[t] = {"n": len(weeks), "mean": mean, "mean_se": sd / math.sqrt(len(weeks)), "cv": cv,
                  "ends": {e: v / n for e, v in ends.items()} if n else None}
    assess = [r for r in rows if r["type"] == "assessment"]
    if len(assess) >= 20:
        counts = {o: sum(r["outcome"] == o for r in assess) for o in ("nfa", "early_help", "cin", "cla")}
        n = sum(counts.values())
        if n:
            out["assessment"] = {"n": n, "shares": {o: v / n for o, v in counts.items()}}
    return out


# -- the scenario -------------------------------------------------------------------------
@dataclass
class Calibration:
    """Everything fitted from one data folder: demand, leaving hazards and case durations."""

    demand: DemandFit
    leaving: dict
    cases: dict


def calibrate(data_dir: Path) -> Calibration:
    """Read the three data files in ``data_dir`` and fit demand, leaving and cases."""
    data_dir = Path(data_dir)
    contacts = read_table(data_dir / "contacts.csv")
    demand = fit_demand(contacts)
    start, end = demand.months[0], next_month(demand.months[-1])
    staff = read_table(data_dir / "staff.csv")
    cases = read_table(data_dir / "closed_cases.csv")
    return Calibration(demand, fit_leaving(staff, start, end), fit_cases(cases))


def _header(d: DemandFit, name: str, extends: str, start: dt.date) -> list[str]:
    """The scenario's opening: where it came from, its name, and the seasonal profile."""
    season, season_se = d.seasonality()
    top = tomlout.table((), {"extends": extends, "name": name,
                             "description": f"Fitted to local data, {d.months[0]:%b %Y} to {d.months[-1]:%b %Y}.",
                             "start_date": start}, heading=[
        f"Fitted by workforce-sim calibrate from data for {d.months[0]:%B %Y} to {d.months[-1]:%B %Y}.",
        "Each fitted value has its standard error (se) in a comment. Everything not fitted comes from the",
        f"{extends} scenario: check it against your council before relying on the results."])
    demand = tomlout.table(("demand",), {"trend_per_year": 0.0, "seasonality": [round(float(x), 4) for x in season]},
                           {"trend_per_year": "each source has its own trend below",
                            "seasonality": "January..December, fitted jointly over sources; se: "
                                           + ", ".join(f"{x:.3f}" for x in season_se)})
    return [top, demand]


def _source_lines(d: DemandFit, parent, extends: str, start: dt.date) -> list[str]:
    """One [demand.sources.X] table per fitted source, then a zero for each of the parent's sources not in the data."""
    out = []
    for s, src in enumerate(d.sources):
        value, se = d.per_year(s, d.t_end)
        tr, tr_se = d.trend(s)
        p, p_se = d.referral_share[src]
        values = {"contacts_per_year": round(value, 1), "trend_per_year": round(tr, 5),
                  "referral_share": round(p, 5)}
        notes = {"contacts_per_year": f"se {se:.1f}, at {start}", "trend_per_year": f"se {tr_se:.5f}",
                 "referral_share": f"se {p_se:.5f}"}
        if src in parent.demand.sources:
            eh = parent.demand.sources[src].early_help_share
            if p + eh > 1:
                eh = round(1 - p, 5)
            notes["early_help_share"] = f"not in the data: from {extends}; set it from local knowledge"
        else:
            eh = 0.0
            notes["early_help_share"] = "not in the data: set it from local knowledge"
        values["early_help_share"] = eh
        out.append(tomlout.table(("demand", "sources", src), values, notes))
    for src, (per_day, n) in d.thin.items():
        p, p_se = d.referral_share[src]
        eh = parent.demand.sources[src].early_help_share if src in parent.demand.sources else 0.0
        out.append(tomlout.table(("demand", "sources", src), {
            "contacts_per_year": round(per_day * d.days_per_year, 1), "trend_per_year": 0.0,
            "referral_share": round(p, 5), "early_help_share": min(eh, round(1 - p, 5))}, {
            "contacts_per_year": f"contacts in {_months(n)} only, too few to fit: their average, no trend; check it",
            "referral_share": f"se {p_se:.5f}", "early_help_share": "not in the data: set it from local knowledge"}))
    for src in parent.demand.sources:
        if src not in d.sources and src not in d.thin:
            out.append(tomlout.table(("demand", "sources", src), {"contacts_per_year": 0},
                                     {"contacts_per_year": f"a source of {extends} that is not in your data"}))
    return out


def _turnover_lines(leaving: dict, parent, extends: str) -> list[str]:
    """The [workforce.turnover] tables: fitted leaving rates, the parent's for grades not in the data."""
    perm = {g: v for (g, c), v in leaving.items() if c == "permanent"}
    agency = leaving.get(("social_worker", "agency"))
    out = []
    if agency:
        p, se, n, years = agency
        out.append(tomlout.table(("workforce", "turnover"), {"agency_per_year": round(p, 5)},
                                 {"agency_per_year": f"se {se:.5f} ({n} leavers in {years:.1f} FTE-years)"}))
    if perm:
        base = parent.workforce.turnover.permanent_per_year
        values: dict[str, float] = {}
        notes: dict[str, str] = {}
        for g in GRADES:
            if g in perm:
                p, se, n, years = perm[g]
                values[g] = round(p, 5)
                notes[g] = f"se {se:.5f} ({n} leavers in {years:.1f} FTE-years)"
            else:
                values[g] = base[g]
                notes[g] = f"not in the data (from {extends})"
        out.append(tomlout.table(("workforce", "turnover", "permanent_per_year"), values, notes))
    return out


def _case_lines(cases: dict) -> list[str]:
    """Plan durations and endings, and assessment outcomes, from closed cases."""
    out = []
    for t in PLAN_TYPES:
        if t in cases:
            c = cases[t]
            out.append(tomlout.table(("cases", "plans", t, "duration_weeks"),
                                     {"dist": "gamma", "mean": round(float(c["mean"]), 3),
                                      "cv": round(float(c["cv"]), 4)},
                                     {"mean": f"se {c['mean_se']:.2f} weeks"}, heading=[f"{c['n']} closed {t} plans"]))
            if c["ends"]:
                out.append(tomlout.table(("cases", "plans", t, "ends"),
                                         {e: round(v, 5) for e, v in c["ends"].items()}))
    if "assessment" in cases:
        a = cases["assessment"]
        out.append(tomlout.table(("cases", "outcomes"), {o: round(v, 5) for o, v in a["shares"].items()},
                                 heading=[f"{a['n']} closed assessments not leading to a child protection plan"]))
    return out


def extends_from(extends: str, out: Path | None) -> str:
    """How the fitted file at ``out`` names the scenario it extends: a bundled scenario by its name, a scenario file
    by its path from ``out``'s folder (where the loader looks for it), so the file loads from anywhere."""
    path = resolve_path(extends)
    if out is None or path.resolve() == bundled_path(path.stem).resolve():
        return extends
    return Path(os.path.relpath(path.resolve(), Path(out).resolve().parent)).as_posix()


def scenario_text(cal: Calibration, name: str, extends: str = "baseline", out: Path | None = None) -> str:
    """The fitted scenario as TOML that extends ``extends``, with standard errors in comments; written to ``out``, it
    names ``extends`` by its path from there (:func:`extends_from`).

    Every key, value and table header is written by tomli-w (through :mod:`tomlout`), so a
    source name or a scenario name, whatever characters it holds, stays a name: it cannot add a
    table or a value. Comments sit on lines of their own.
    """

    start = next_month(cal.demand.months[-1])
    parent = load_scenario(extends)
    chunks = (_header(cal.demand, name, extends_from(extends, out), start)
              + _source_lines(cal.demand, parent, extends, start)
              + _turnover_lines(cal.leaving, parent, extends) + _case_lines(cal.cases))
    text = "\n".join(chunks)
    bad = _not_finite(tomllib.loads(text))
    if bad:  # never written: a scenario of nan would only be refused when loaded
        raise DataError(f"the data could not be fitted to a finite value of {', '.join(bad[:5])}: check the data "
                        "for these settings (too few months or cases, or none at all)")
    return text


def _not_finite(table, path: str = "") -> list[str]:
    """The keys of every number in ``table`` (a scenario as read) that is not finite."""
    items = table.items() if isinstance(table, dict) else enumerate(table) if isinstance(table, list) else ()
    out = []
    for k, v in items:
        key = f"{path}.{k}" if path else str(k)
        if isinstance(v, float) and not math.isfinite(v):
            out.append(key)
        out += _not_finite(v, key)
    return out


# -- backtest -------------------------------------------------------------------------------
def backtest(data_dir: Path, holdout_months: int = 12, draws: int = 4000, seed: int = 1) -> dict:
    """Fit demand on all but the last ``holdout_months``; project them; score the projection.

    The projection of each month's contacts and referrals draws the fitted parameters from
    their estimated sampling distribution and the counts from the Poisson model, as the
    simulation's demand module does. Returns per-month rows and two scores: the median
    absolute percentage error of the median projection, and the share of held-out values
    inside the 80% band (10th to 90th percentile); a well-calibrated model covers about 80%.
    """
    rows = read_table(Path(data_dir) / "contacts.csv")
    months = sorted({r["month"] for r in rows})
    if holdout_months < 1 or len(months) - holdout_months < 13:
        raise DataError(f"contacts.csv has {len(months)} months: keep at least 13 to fit, and hold out at least 1")
    cut = months[-holdout_months]
    fit = fit_demand([r for r in rows if r["month"] < cut])
    held = [m for m in months if m >= cut]
    days = _month_days(held)
    rng = np.random.default_rng(seed)
    betas = rng.multivariate_normal(fit.beta, fit.cov, size=draws, method="svd")
    out = []
    for j, m in enumerate(held):
        years = (len(fit.months) + j + 0.5) / 12.0
        contacts = np.zeros(draws)
        refs = np.zeros(draws)
        for s, src in enumerate(fit.sources):
            _, x = fit.log_rate(s, years, m.month)
            lam = np.exp(betas @ x) * days[j]
            n = rng.poisson(lam)
            contacts += n
            refs += rng.binomial(n, fit.referral_share[src][0])
        for src, (per_day, _) in fit.thin.items():  # as written: its average, no trend
            n = rng.poisson(np.full(draws, per_day * days[j]))
            contacts += n
            refs += rng.binomial(n, fit.referral_share[src][0])
        actual_c = sum(r["contacts"] for r in rows if r["month"] == m)
        actual_r = sum(r["referrals"] for r in rows if r["month"] == m)
        for measure, sims, actual in (("contacts", contacts, actual_c), ("referrals", refs, actual_r)):
            lo, med, hi = np.percentile(sims, [10, 50, 90])
            out.append({"month": m.strftime("%Y-%m"), "measure": measure, "actual": actual, "median": med,
                        "p10": lo, "p90": hi, "inside": bool(lo <= actual <= hi)})
    errors = [abs(r["median"] - r["actual"]) / r["actual"] for r in out if r["actual"] > 0]
    return {"rows": out, "median_abs_pct_error": 100 * float(np.median(errors)),
            "coverage_80": float(np.mean([r["inside"] for r in out])), "fitted_months": len(fit.months)}
