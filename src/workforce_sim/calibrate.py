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
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import tomlout
from .calendar import england_bank_holidays, next_month
from .schema import GRADES

PLAN_TYPES = ("cin", "cp", "cla")
ENDS = ("close", "early_help", "cin", "cp", "cla")
ASSESSMENT_OUTCOMES = ("nfa", "early_help", "cin", "cp", "cla")

# Column names that identify people. workforce_sim reads aggregate or pseudonymised data only.
PERSONAL = [
    (r"(^|_)(first|fore|sur|last|full|family|given|middle)?_?name(s)?($|_)", "a name"),
    (r"(^|_)(dob|date_of_birth|birth_?date|birthday)($|_)", "a date of birth"),
    (r"(^|_)nhs(_?no|_?number|_?num)?($|_)", "an NHS number"),
    (r"(^|_)(address|street|postcode|post_code|zip)($|_)", "an address"),
    (r"(^|_)(ni_?number|national_insurance|nino)($|_)", "a National Insurance number"),
    (r"(^|_)(email|e_mail|phone|telephone|mobile)($|_)", "contact details"),
    (r"(^|_)(upn|unique_pupil_number)($|_)", "a unique pupil number"),
]
NHS_NUMBER = re.compile(r"^\d{3}\s?\d{3}\s?\d{4}$")

FORMATS = {
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


def _parse(kind, raw: str, where: str):
    v = raw.strip()
    if kind == "text":
        if not v:
            raise DataError(f"{where} is empty")
        return v
    if kind == "count":
        if not re.fullmatch(r"\d+", v):
            raise DataError(f"{where} = {raw!r}: must be a whole number of 0 or more")
        return int(v)
    if kind == "fte":
        try:
            x = float(v)
        except ValueError:
            raise DataError(f"{where} = {raw!r}: must be a number above 0 and at most 1") from None
        if not 0 < x <= 1:
            raise DataError(f"{where} = {raw!r}: must be a number above 0 and at most 1")
        return x
    if kind == "month":
        try:
            return dt.date.fromisoformat(v + "-01")
        except ValueError:
            raise DataError(f"{where} = {raw!r}: must be a month written YYYY-MM, e.g. 2018-04") from None
    if kind in ("date", "date?"):
        if not v and kind == "date?":
            return None
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            raise DataError(f"{where} = {raw!r}: must be a date written YYYY-MM-DD") from None
    if isinstance(kind, tuple):
        if v not in kind:
            raise DataError(f"{where} = {raw!r}: must be one of {', '.join(kind)}")
        return v
    raise AssertionError(kind)


def read_table(path: Path) -> list[dict]:
    """Rows of one data file, checked against its format; personal identifiers are refused."""
    name = path.name
    spec = FORMATS[name]
    if not path.is_file():
        raise DataError(f"{path}: not found; a calibration folder needs {', '.join(FORMATS)} (see docs/data-formats.md)")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        cols = [c.strip() for c in (reader.fieldnames or [])]
        for c in cols:
            what = _personal(c)
            if what:
                raise DataError(f"{path}: column {c!r} looks like {what}. workforce_sim reads only aggregate or "
                                f"pseudonymised data: remove the column (people may be identified by a made-up code "
                                f"such as staff_id or case_id).")
        missing = [c for c in spec if c not in cols]
        if missing:
            raise DataError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(spec)}")
        rows = []
        for line, raw in enumerate(reader, start=2):
            row = {}
            for c, v in raw.items():
                c = (c or "").strip()
                if v is not None and NHS_NUMBER.match(v.strip()) and c not in ("contacts", "referrals"):
                    raise DataError(f"{path}: line {line}, column {c}: {v!r} looks like an NHS number; "
                                    "workforce_sim reads only aggregate or pseudonymised data")
                if c in spec:
                    row[c] = _parse(spec[c], v or "", f"{path}: line {line}, column {c}")
            rows.append(row)
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
        se = value * math.sqrt(x @ self.cov @ x)
        return value, se

    def trend(self, s: int) -> tuple[float, float]:
        """Yearly growth in contacts for source s, with its standard error."""
        _, b = self._idx(s)
        g = math.exp(self.beta[b])
        return g - 1.0, g * math.sqrt(self.cov[b, b])


def fit_demand(rows: list[dict]) -> DemandFit:
    """Fit a level and trend for each source and one seasonal profile to monthly contacts (rows of contacts.csv)."""
    months = sorted({r["month"] for r in rows})
    sources = sorted({r["source"] for r in rows})
    if len(months) < 13:
        raise DataError(f"contacts.csv: {len(months)} months of data; at least 13 are needed to estimate a trend and seasonality")
    mi = {m: i for i, m in enumerate(months)}
    si = {s: i for i, s in enumerate(sources)}
    days = _month_days(months)
    k = len(sources)
    n_cols = 1 + 2 * k + 11
    X, y, off = [], [], []
    for r in rows:
        m, s = r["month"], si[r["source"]]
        x = np.zeros(n_cols)
        x[0] = 1.0
        if s > 0:
            x[1 + s] = 1.0
        x[1 + k + s] = (mi[m] + 0.5) / 12.0  # years since the first month, at mid-month
        if m.month > 1:
            x[1 + 2 * k + m.month - 2] = 1.0
        X.append(x)
        y.append(r["contacts"])
        off.append(math.log(days[mi[m]]))
    X = np.array(X)
    X = np.delete(X, 1, axis=1)  # source 0 has no level column of its own: the baseline level is its level
    beta, cov = poisson_glm(X, np.array(y, float), np.array(off))
    beta = np.insert(beta, 1, 0.0)
    cov = np.insert(np.insert(cov, 1, 0.0, axis=0), 1, 0.0, axis=1)
    shares = {}
    for s in sources:
        c = sum(r["contacts"] for r in rows if r["source"] == s)
        f = sum(r["referrals"] for r in rows if r["source"] == s)
        if f > c:
            raise DataError(f"contacts.csv: source {s} has more referrals ({f}) than contacts ({c})")
        p = f / c if c else 0.0
        shares[s] = (p, math.sqrt(p * (1 - p) / c) if c else 0.0)
    return DemandFit(months, sources, beta, cov, days.sum() / (len(months) / 12.0), shares, len(months) / 12.0)


# -- fitting staff and cases ----------------------------------------------------------------
def fit_leaving(rows: list[dict], start: dt.date, end: dt.date) -> dict[tuple[str, str], tuple[float, float, int, float]]:
    """(grade, contract) -> (yearly leaving probability, its standard error, leavers, years at risk)."""
    out = {}
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
        mean, sd = weeks.mean(), weeks.std(ddof=1)
        ends = {e: sum(r["outcome"] == e for r in mine) for e in ENDS if e != t}
        n = sum(ends.values())
        out[t] = {"n": len(weeks), "mean": mean, "mean_se": sd / math.sqrt(len(weeks)), "cv": sd / mean,
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
    for src in parent.demand.sources:
        if src not in d.sources:
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
        values, notes = {}, {}
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
                                     {"dist": "gamma", "mean": round(float(c["mean"]), 3), "cv": round(float(c["cv"]), 4)},
                                     {"mean": f"se {c['mean_se']:.2f} weeks"}, heading=[f"{c['n']} closed {t} plans"]))
            if c["ends"]:
                out.append(tomlout.table(("cases", "plans", t, "ends"),
                                         {e: round(v, 5) for e, v in c["ends"].items()}))
    if "assessment" in cases:
        a = cases["assessment"]
        out.append(tomlout.table(("cases", "outcomes"), {o: round(v, 5) for o, v in a["shares"].items()},
                                 heading=[f"{a['n']} closed assessments not leading to a child protection plan"]))
    return out


def scenario_text(cal: Calibration, name: str, extends: str = "baseline") -> str:
    """The fitted scenario as TOML that extends ``extends``, with standard errors in comments.

    Every key, value and table header is written by tomli-w (through :mod:`tomlout`), so a
    source name or a scenario name, whatever characters it holds, stays a name: it cannot add a
    table or a value. Comments sit on lines of their own.
    """
    from .loading import load_scenario

    start = next_month(cal.demand.months[-1])
    parent = load_scenario(extends)
    chunks = (_header(cal.demand, name, extends, start) + _source_lines(cal.demand, parent, extends, start)
              + _turnover_lines(cal.leaving, parent, extends) + _case_lines(cal.cases))
    return "\n".join(chunks)


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
        actual_c = sum(r["contacts"] for r in rows if r["month"] == m)
        actual_r = sum(r["referrals"] for r in rows if r["month"] == m)
        for measure, sims, actual in (("contacts", contacts, actual_c), ("referrals", refs, actual_r)):
            lo, med, hi = np.percentile(sims, [10, 50, 90])
            out.append({"month": m.strftime("%Y-%m"), "measure": measure, "actual": actual, "median": med,
                        "p10": lo, "p90": hi, "inside": bool(lo <= actual <= hi)})
    errors = [abs(r["median"] - r["actual"]) / r["actual"] for r in out if r["actual"] > 0]
    return {"rows": out, "median_abs_pct_error": 100 * float(np.median(errors)),
            "coverage_80": float(np.mean([r["inside"] for r in out])), "fitted_months": len(fit.months)}
