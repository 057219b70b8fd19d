"""The headline answer in words, written once for the command line and the report.

Will caseloads stay manageable, and for how long? The sentences read the
headline rows of ``summary.csv`` (``p_sustained`` by period and
``weeks_to_first_breach``) and the scenario's breach rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from ..analysis.breaches import SERVICE, breach_rule, team_words
from ..analysis.formats import and_list, money, money_difference, setting_text
from ..analysis.measures import MEASURE, Measure
from ..analysis.payback import NOT_WITHIN_RUN
from ..analysis.statistics import wilson
from ..analysis.summary import value
from ..scenario.schema import Scenario
from ..studies.sensitivity import SensitivityResult


def setting_at(row: pd.Series, end: str) -> str:
    """A sensitivity table row's setting at one end ("low", "central" or "high"), as :func:`setting_text`
    writes it (a table written before the ``percent`` column shows the number as it is)."""
    return setting_text(float(row[end]), bool(row.get("percent", False)))


def when(scn: Scenario, week: float) -> str:
    """A week of the run as words: "never", or "week 92 (Nov 2020)"."""
    if not np.isfinite(week):
        return "never"
    d = scn.start_date + dt.timedelta(weeks=int(week))
    return f"week {int(week)} ({d:%b %Y})"


def _month(scn, week: float) -> str:
    """The month a week of the run falls in, e.g. "November 2027"."""
    return f"{scn.start_date + dt.timedelta(weeks=int(week)):%B %Y}"


def _months(week: float) -> str:
    """A time from the start in words: "about 21 months", "about 3 years and 2 months"."""
    months = int(round(week * 7 / 30.44))
    if months < 24:
        return f"about {months} month{'s' if months != 1 else ''}"
    y, m = divmod(months, 12)
    return f"about {y} years" + (f" and {m} month{'s' if m != 1 else ''}" if m else "")


def answer_word(p: float, low: float = 0.0, high: float = 1.0) -> str:
    """The short answer to "will caseloads stay manageable?" for a share ``p`` of futures that do, with the
    95% interval ``low`` to ``high`` of that share: a firm yes or no only when the interval allows it."""
    if p >= 0.9:
        return "Yes, very likely." if low >= 0.75 else "Probably (too few simulated futures to be sure)."
    if p >= 0.6:
        return "Probably, but not certainly."
    if p > 0.4:
        return "Perhaps: about as likely as not."
    if p > 0.1:
        return "Probably not."
    return "No." if high <= 0.25 else "Probably not (too few simulated futures to be sure)."


def run_length(years: float) -> str:
    """A run's length in words: "5 years", "1 year", "2.5 years", "26 weeks"."""
    if years < 1:
        return f"{round(years * 365.25 / 7)} weeks"
    return f"{years:g} year" + ("" if years == 1 else "s")


def plain_headline(scn: Scenario, part: pd.DataFrame, n: int, years: float | None = None) -> str:
    """The headline answer in plain words, for a director: yes or no, when, and how sure.

    For example: "No. In a typical future caseloads first go above 18 cases per social worker in
    about 21 months (by November 2027); by year 5 they have in every future."
    """
    thr = _standard_words(scn)
    sus = part[part["metric"] == "p_sustained"].set_index("period")
    whole = sus.loc["whole run"]
    p = float(whole["mean"])
    k = int(round(p * n))
    year_labels = [q for q in sus.index if q != "whole run"]
    b = part[part["metric"] == "weeks_to_first_breach"].iloc[0]
    length = run_length(years) if years else None
    text = answer_word(p, float(whole["ci95_low"]), float(whole["ci95_high"])) + " "
    if np.isfinite(b["p50"]):
        soon = "within the first month" if b["p50"] * 7 / 30.44 < 0.5 else f"in {_months(b['p50'])}"
        text += (f"In a typical future caseloads (counting children waiting for a social worker) first go above {thr} "
                 f"{soon} (by {_month(scn, b['p50'])})")
        gone = next((q for q in year_labels if sus.loc[q, "mean"] == 0), None)
        text += (f"; by {gone} they have in every future." if gone else
                 f"; in {k} of {n} futures they stay at or below it for the whole run.")
    else:
        text += (f"In {k} of {n} simulated futures caseloads (counting children waiting for a social worker) stay at "
                 f"or below {thr} for the whole run"
                 + (f" ({length})" if length else ""))
        if k < n and np.isfinite(b["p10"]):
            text += (f"; in 1 future in 10 they have gone above it within {_months(b['p10'])} "
                     f"(by {_month(scn, b['p10'])})")
        text += "."
    where = where_line(scn, part, n)
    text += (f" {where}" if where else "")
    text += (f" (95% confidence interval for the share of futures that stay manageable: {whole['ci95_low']:.0%} to "
             f"{whole['ci95_high']:.0%}, from {n} simulated futures.)")
    return text


def _standard_words(scn: Scenario) -> str:
    """The standard in the headline: "18 cases per social worker", or by team when the teams' standards differ:
    "their team's standard (assessment 20, long term 17, children in care 15 cases per social worker)"."""
    teams = scn.case_holding_teams()
    stds = {scn.standard(t) for t in teams}
    if len(stds) == 1:
        return f"{stds.pop():g} cases per social worker"
    return ("their team's standard (" + ", ".join(f"{t.replace('_', ' ')} {scn.standard(t):g}" for t in teams)
            + " cases per social worker)")


def where_line(scn: Scenario, part: pd.DataFrame, n: int) -> str:
    """Which team breaks first, when and how often, in a sentence ("" when no team breaches, or from a summary
    written before teams were watched). For example: "Caseloads break first in the children in care team (4 of 5
    futures, typically from week 23 (Sep 2026)); the assessment team goes over in 3 of 5. Averaged over the whole
    service, caseloads breach in 0 of 5."
    """
    rows = part[part["metric"].isin(["team_breaches", "breaks_first"])]
    if rows.empty:
        return ""
    first = rows[rows["metric"] == "breaks_first"].set_index("statistic")["mean"]
    ever = rows[rows["metric"] == "team_breaches"].set_index("statistic")
    if not (first > 0).any():
        return ""
    order = first.sort_values(ascending=False, kind="stable")
    lead = str(order.index[0])
    week = rows[(rows["metric"] == "breaks_first") & (rows["statistic"] == lead)]["p50"].iloc[0]
    typically = f", typically from {when(scn, week)}" if np.isfinite(week) else ""
    bits = [f"Caseloads break first in {team_words(lead)} ({round(order.iloc[0] * n)} of {n} futures{typically})"]
    others = [f"{team_words(t)} goes over in {round(r['mean'] * n)} of {n}" for t, r in ever.iterrows()
              if t not in (lead, SERVICE) and r["mean"] > 0]
    text = bits[0] + ("; " + "; ".join(others) if others else "") + "."
    if SERVICE in ever.index and lead != SERVICE:
        text += (f" Averaged over the whole service, caseloads breach in {round(ever.loc[SERVICE, 'mean'] * n)} of "
                 f"{n}.")
    return text


def headline_lines(scn: Scenario, part: pd.DataFrame, n: int) -> list[str]:
    """Sentences for one scenario from its summary rows ``part`` over ``n`` simulated futures."""
    rule = breach_rule(scn)
    sus = part[part["metric"] == "p_sustained"].set_index("period")
    whole = sus.loc["whole run"]
    lines = [f"Caseloads stayed manageable for the whole run in {round(whole['mean'] * n)} of {n} simulated futures: "
             f"{whole['mean']:.0%} (95% confidence interval {whole['ci95_low']:.0%} to {whole['ci95_high']:.0%}).",
             rule.describe()]
    by_year = [f"{p}: {r['mean']:.0%}" for p, r in sus.iterrows() if p != "whole run"]
    if by_year:
        lines.append("Still manageable at the end of " + ", ".join(by_year) + ".")
    b = part[part["metric"] == "weeks_to_first_breach"].iloc[0]
    lines.append(f"First breach begins: median {when(scn, b['p50'])}; 10th percentile {when(scn, b['p10'])}, "
                 f"90th percentile {when(scn, b['p90'])}.")
    where = where_line(scn, part, n)
    if where:
        lines.append(where)
    return lines


def trajectory_line(part: pd.DataFrame) -> str | None:
    """How the service changes from the first to the last whole year of the run, in one sentence (None for a
    one-year run)."""
    years = [p for p in dict.fromkeys(part["period"]) if p.startswith("year ")]
    if len(years) < 2:
        return None
    first, last = years[0], years[-1]

    def mean(metric: str, period: str) -> float:
        try:
            return float(value(part, metric, period)["mean"])
        except KeyError:
            return np.nan

    def agency_pct(period: str) -> float:
        return 100 * mean("staff_fte_agency", period) / mean("staff_fte", period)

    bits = [f"the caseload counting unallocated cases goes from {mean('caseload_incl_unallocated', first):.1f} to "
            f"{mean('caseload_incl_unallocated', last):.1f} per FTE",
            f"cases waiting unallocated from {mean('unallocated_cases', first):.0f} to "
            f"{mean('unallocated_cases', last):.0f} "
            f"(child protection: {mean('cp_unallocated', first):.0f} to {mean('cp_unallocated', last):.0f})",
            f"agency staff from {agency_pct(first):.0f}% to {agency_pct(last):.0f}% of staff",
            f"permanent leavers from {mean('leavers_permanent', first):.0f} to "
            f"{mean('leavers_permanent', last):.0f} a year"]
    return f"On average, from {first} to {last}: " + "; ".join(bits) + "."


# -- which assumptions decide the answer -------------------------------------------------------
METHOD_WORDS = {"tornado": "one at a time", "morris": "Morris screening", "sobol": "Sobol indices"}


def _why(row) -> str:
    """Where a setting's range comes from, in brackets ("" when the scenario does not say)."""
    source = str(row.get("source") or "").strip()
    return f" ({source})" if source and source != "nan" else " (the scenario gives no source for its range)"


def _reads(measure, v: float, again: bool = False) -> str:
    """A value of a sensitivity measure as part of a sentence: "caseloads stay manageable in 90% of futures";
    ``again``: as said a second time ("in 10% of futures")."""
    long, short = {"p_sustained": ("caseloads stay manageable in {} of futures", "in {} of futures"),
                   "weeks_manageable": ("caseloads stay manageable for {} on average", "for {}"),
                   "caseload_end": ("the caseload at the end is {} per FTE", "{} per FTE"),
                   "cost_per_year": ("the service costs {} a year", "{} a year")}[measure.name]
    return (short if again else long).format(measure.show(v))


def _size(method: str, row, measure) -> str:
    """How much one setting moves a measure, in the words of the method that measured it."""
    if method == "tornado":
        return (f": at its low ({setting_at(row, 'low')}) {_reads(measure, row['at_low'])}, at its high "
                f"({setting_at(row, 'high')}) "
                f"{_reads(measure, row['at_high'], again=True)}")
    if method == "morris":
        return (f": across its range it moves {_the(measure)} by about {measure.change(row['index']).lstrip('+')} on "
                "average, over the other settings' values")
    share = min(max(float(row["index"]), 0.0), 1.0)  # an estimate from few samples can come out below 0 or above 1
    return f": it accounts for about {share:.0%} of the measure's variation, with its interactions"


def index_text(method: str, row: pd.Series, measure: Measure) -> str:
    """One setting's effect on one measure as a table shows it (a row of sensitivity.csv): the tornado's change
    from low to high ("-40 points"), Morris's mu* ("12 weeks"), or a Sobol total index ("0.42"); "no change"
    when the measure did not move at all."""
    if method == "tornado":
        return measure.change(row["effect"]) if row["effect"] != 0 else "no change"
    if method == "morris":
        return measure.change(row["index"]).lstrip("+") if row["index"] != 0 else "no change"
    if row["index_ci95_low"] == row["index_ci95_high"] == 0:
        return "no change"
    return f"{row['index']:.2f}"


def sensitivity_sentences(result: SensitivityResult, method: str | None = None) -> list[str]:
    """The answer to "which assumptions decide the answer?" in plain words, from a
    :class:`workforce_sim.studies.sensitivity.SensitivityResult`: which settings move the chance that caseloads stay
    manageable most (or, if no setting clearly moves it, the caseload at the end), which others move the
    caseload, which make no difference these futures can show, and what to do about it."""

    method = method or result.main_method()
    n = result.manifest.get("replications")
    out = []
    chance, caseload = MEASURE["p_sustained"], MEASURE["caseload_end"]
    rows = result.ranking(method, "p_sustained")
    by_caseload = result.ranking(method, "caseload_end")
    central = result.manifest.get("central") or {}
    # the question is whether caseloads stay manageable, then for how long, then how full they get: the first
    # of these that some setting clearly moves is the one the words follow
    unmoved = []  # (measure, what it was at every combination, or "")
    for name in ("p_sustained", "weeks_manageable", "caseload_end"):
        measure = MEASURE[name]
        ranked = result.ranking(method, name)
        clear = ranked[ranked["clear"]]
        if not clear.empty:
            break
        same = "" if (ranked["index"] > 0).any() or name not in central else _reads(measure, central[name], again=True)
        unmoved.append((measure, same))
    if unmoved:
        what = " nor ".join(_the(m) for m, _ in unmoved)
        chances = [v for m, v in unmoved if v and m.name != "caseload_end"]
        out.append(f"No uncertain setting changed {what} clearly enough for {n} simulated futures to show"
                   + (f" (caseloads stay manageable {', '.join(chances)} at every combination tried)"
                      if chances else "")
                   + (f"; so this reads {_the(measure)} instead." if not clear.empty else "."))
    if clear.empty:
        out.append(f"No uncertain setting made a difference to it that {n} simulated futures can show: over the ranges "
                   "given, the answer does not hang on them (more futures, --reps, could show smaller effects).")
        return out
    first = clear.iloc[0]
    what = "The answer" if measure is chance else "It"
    out.append(f"{what} depends most on {_lower(first['label'])}{_why(first)}{_size(method, first, measure)}.")
    rest = [_lower(r["label"]) for _, r in clear.iloc[1:4].iterrows()]
    if rest:
        out.append(f"Then on {and_list(rest)}.")
    named = set(clear["setting"])
    if measure is not caseload:  # settings that move the caseload clearly, though not the measure read
        also = by_caseload[by_caseload["clear"] & ~by_caseload["setting"].isin(named)]
        if len(also):
            span = " (from each setting's low to its high)" if method == "tornado" else ""
            out.append(f"These move the caseload at the end{span}, though not {_the(measure)} clearly: " + and_list(
                [f"{_lower(r['label'])} ({caseload.change(r['effect'])} per FTE)" if method == "tornado"
                 else _lower(r["label"]) for _, r in also.iterrows()]) + ".")
            named |= set(also["setting"])
    none = [_lower(r["label"]) for _, r in rows.iterrows() if r["setting"] not in named]
    if none:
        out.append(f"{len(none)} of the {len(rows)} settings made no clear difference that {n} simulated futures can "
                   f"show: {and_list(none)}.")
    out += _advice(result, method, clear, none)
    return out


def _advice(result, method: str, clear: pd.DataFrame, none: list[str]) -> list[str]:
    """What to do about the answer: a caution when the one-at-a-time method could not show a setting that acts
    only under pressure, and which settings to pin down (with a caution when the analysis was short)."""
    out: list[str] = []
    n = result.manifest.get("replications")
    chance = MEASURE["p_sustained"]
    central = (result.manifest.get("central") or {}).get("p_sustained")
    if method == "tornado" and none and central is not None and central >= 0.9:
        out.append(f"One at a time, each setting moves alone from the central values, where this service copes "
                   f"(caseloads stay manageable in {chance.show(central)} of futures): a setting that acts only under "
                   "pressure, such as how pressure raises leaving, cannot show its effect unless others push the "
                   "service too. Morris screening (--method morris) moves them together.")
    top = and_list([_lower(r["label"]) for _, r in clear.head(2).iterrows()])
    years = result.manifest.get("years") or 0
    if (n or 0) < 10 or years < 5:
        out.append(f"Before relying on the answer, pin down {top} with the council's own evidence. This was a short "
                   f"analysis ({n} simulated futures of {run_length(years)} at each combination): a setting it "
                   "shows no clear difference for may still matter over a longer run or with more futures (--years, "
                   "--reps).")
    else:
        out.append(f"Before relying on the answer, pin down {top} with the council's own evidence; the other settings "
                   "matter less over the ranges given.")
    return out


def _the(measure) -> str:
    """A sensitivity measure inside a sentence: "the chance that caseloads stay manageable"."""
    return {"p_sustained": "the chance that caseloads stay manageable", "weeks_manageable": "the weeks before "
            "caseloads first become unmanageable", "caseload_end": "the caseload at the end",
            "cost_per_year": "the cost a year"}[measure.name]


def _lower(label) -> str:
    """A setting's label inside a sentence: "Weeks a plan lasts" -> "weeks a plan lasts" (a key path as it is)."""
    text = str(label)
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def uncertainty_line(scns: list[Scenario], drawn: bool) -> str | None:
    """What the spread of a run's results shows, in one sentence: chance alone, or what is not known as well
    (None when no scenario has uncertain settings and nothing was drawn)."""
    counts = {len(s.uncertain) for s in scns}
    n = max(counts) if counts else 0
    if drawn:
        return (f"Each simulated future drew its own values of the uncertain settings ({n} in all, each from the range "
                "its scenario file gives), so the spread shows what is not known about them as well as chance.")
    if n:
        return (f"The {n} uncertain settings are at their central values, so the spread shows chance alone; "
                "--uncertainty draws them for each future, and `workforce-sim sensitivity` shows which matter.")
    return None


def beats_first(row: pd.Series, drawn: bool) -> str:
    """How often, future by future, an option beats the first (a row of compare.csv), in words."""
    shares = [(row["fewer_breach_weeks_share"], "fewer weeks in breach"), (row["same_breach_weeks_share"], "the same"),
              (row["more_breach_weeks_share"], "more")]
    text = ", ".join(f"{what} in {share:.0%}" for share, what in shares if share > 0 or what == "fewer weeks in breach")
    futures = "futures (each with its own draw of the uncertain settings)" if drawn else "futures"
    return f"{text} of the {futures}; lower cost in {row['lower_cost_share']:.0%}"


def part_year_words(days: int) -> str:
    """A financial year the run covers only in part, in words: "part year: 1 day", "part year: 59 days"."""
    return f"part year: {days} day{'s' if days != 1 else ''}"


def payback_sentence(option: pd.Series, against: str, fmt: Callable[[float], str], smallest: float,
                     interval: bool = False) -> str:
    """When an option pays back against the first (``against``, its label), in words, from a row of
    :func:`~workforce_sim.analysis.payback.payback_by_option`: "Pays back in 2029-30 (in 46 of 50 futures by
    the end of the run)." or "Does not pay back within the run (£1.20m more in all by the end of 2030-31; paid
    back in 3 of 50 futures)." ``fmt`` shows an amount of money (``smallest``: the least it shows); with
    ``interval``, the share of futures paid back has its 95% interval."""
    k, n = int(option["paid_back_futures"]), int(option["replications"])
    futures = f"in {k} of {n} future{'s' if n != 1 else ''}"
    share = ""
    if interval and np.isfinite(option["paid_back_share_ci95_low"]):
        share = (f"; 95% interval {option['paid_back_share_ci95_low']:.0%} to "
                 f"{option['paid_back_share_ci95_high']:.0%} of futures")
    if option["payback_year"] == NOT_WITHIN_RUN:
        so_far = money_difference(float(option["cumulative_cash_end"]), fmt, smallest)
        part = " (part year)" if option["last_year_part"] else ""
        return (f"Does not pay back within the run: {so_far} than {against} in all by the end of "
                f"{option['last_year']}{part}; paid back {futures} by then{share}.")
    when_ = str(option["payback_year"])
    if option["payback_in_part_year"]:
        when_ += f" ({part_year_words(int(option['payback_days']))})"
    if option["payback_year"] == option["first_year"]:
        when_ += ", the run's first year"
    return f"Pays back in {when_} ({futures} by the end of the run{share})."


def futures_to_settle(share: float, target: float, most: int = 2000) -> int | None:
    """The fewest futures at which an observed ``share`` above ``target``, if it held, would put the whole 95%
    interval of the share at or above the target (None: not at or below ``most``, or the share is not above)."""
    if not share > target:
        return None
    for m in range(2, most + 1):
        if wilson(round(share * m), m)[0] >= target:
            return m
    return None


def _share_words(row: pd.Series, n: int) -> str:
    k = int(round(row["p_sustained"] * n))
    return (f"{k} of {n} futures ({row['p_sustained']:.0%}; 95% interval {row['p_sustained_ci95_low']:.0%} to "
            f"{row['p_sustained_ci95_high']:.0%})")


def _settle(row: pd.Series, target: float, n: int) -> str:
    m = futures_to_settle(float(row["p_sustained"]), target)
    more = (f"about {m} futures would settle it if the share held (--reps {m}), or --precision 0.05 stops when it "
            "is settled" if m and m > n else "run again with more futures (--reps, or --precision 0.05) to settle it")
    return more[0].upper() + more[1:] + "."


def recommendation(compare: pd.DataFrame, labels: dict[str, str], target: float = 0.9,
                   name: Callable[[str], str] = str) -> str:
    """Which option to choose for a target chance of staying manageable (a row of compare.csv per option), said
    only as firmly as the futures allow: an option is named as reaching ``target`` when its whole 95% interval
    does; one that reaches it on average only, or could, is named with what would settle it. ``name`` shows an
    option's label (the report makes it bold)."""
    n = int(compare["replications"].iloc[0])
    who = {s: name(labels.get(s, s)) for s in compare["scenario"]}
    by_cost = compare.sort_values("cost_per_year", kind="stable")
    sure = by_cost[by_cost["p_sustained_ci95_low"] >= target]
    maybe = by_cost[(by_cost["p_sustained"] >= target) & (by_cost["p_sustained_ci95_low"] < target)]
    could = by_cost[(by_cost["p_sustained"] < target) & (by_cost["p_sustained_ci95_high"] >= target)]
    goal = f"keeps caseloads manageable in at least {target:.0%} of futures"
    if len(sure):
        best = sure.iloc[0]
        text = (f"The cheapest option that {goal} is {who[best['scenario']]} ({money(best['cost_per_year'])} a year): "
                f"{_share_words(best, n)}.")
        cheaper = maybe[maybe["cost_per_year"] < best["cost_per_year"]]
        if len(cheaper):
            alt = cheaper.iloc[0]
            text += (f" {who[alt['scenario']]} costs less and stays manageable in {_share_words(alt, n)}, which "
                     f"could be chance: {_settle(alt, target, n)}")
        return text
    if len(maybe):
        best = maybe.iloc[0]
        return (f"{who[best['scenario']]} ({money(best['cost_per_year'])} a year) stays manageable in "
                f"{_share_words(best, n)}, but with {n} futures that could be chance: its interval reaches below "
                f"{target:.0%}, so no option surely {goal}. {_settle(best, target, n)}")
    if len(could):
        best = could.sort_values("p_sustained", ascending=False, kind="stable").iloc[0]
        return (f"No option {goal} in this run; {who[best['scenario']]}'s chance ({_share_words(best, n)}) could "
                f"still reach {target:.0%}: run again with more futures (--reps, or --precision 0.05) to tell.")
    best = compare.sort_values("p_sustained", ascending=False, kind="stable").iloc[0]
    return (f"No option compared {goal}: the best, {who[best['scenario']]}, stays manageable in "
            f"{_share_words(best, n)}.")
