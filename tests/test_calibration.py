"""The model against published figures: scenarios/england-2019.toml holds England's 2019 figures for five years.

Each check names the published figure, DfE's definition (the model's column computes the same
thing: see tests/test_dfe_definitions.py), the source and the tolerance allowed. The tolerance
is the spread of the published figure over nearby years plus the Monte Carlo error of a yearly
mean over the replications run here. Every one of the five simulated years must be inside it:
a council that holds steady in the published figures must hold steady in the model.
"""

import numpy as np
import pandas as pd
import pytest

from workforce_sim import run

YEARS = 5
REPS = 12

# measure: (published value, lowest accepted, highest accepted, definition and source)
PUBLISHED = {
    "turnover_pct": (15.1, 13.0, 17.5, "permanent FTE leavers in the year over permanent FTE in post; "
                     "DfE Children's social work workforce 2019: 15.1% (about 15% in 2017, 15.9% in 2023)"),
    "caseload": (16.9, 15.5, 18.5, "cases held per case-holding FTE, unallocated cases not counted; "
                 "DfE workforce 2019: 16.9 (17.8 in 2017, 16.0 in 2023)"),
    "re_referral_pct": (22.6, 20.5, 24.5, "referrals within 12 months of the child's previous referral, over all "
                                          "referrals; "
                        "DfE Characteristics of children in need 2019: 22.6% (22% in 2023-24)"),
    "in_timescale_pct": (82.7, 80.0, 87.5, "assessments completed within 45 working days of referral; "
                         "DfE CIN 2018: 82.7% (85.7% in 2024-25, table C2)"),
    "assessment_days_mean": (32.0, 29.0, 35.0, "mean working days from referral to completion; DfE CIN 2019: 32"),
    "agency_pct": (15.9, 13.5, 18.5, "agency FTE over agency plus permanent FTE in post; "
                   "DfE workforce 2019: 5,800 agency FTE against 30,700 in post"),
    "vacancy_pct": (16.3, 14.0, 20.0, "vacancies over vacancies plus permanent FTE in post; "
                    "DfE workforce 2019: 6,000 vacancies against 30,700 in post"),
}

# England's case mix per 10,000 children under 18 (population.children: 79,200, England's 11.96 million over 151
# councils). Flows are the year's totals; stocks are read in the last week of each year (DfE: at 31 March). The
# tolerance is the published figure's spread over nearby years (national-series.md, B and A1-A2) plus the Monte
# Carlo error of a yearly mean over 12 replications (about 2% for enquiries, 3% for conferences and plans, 4% for
# children starting care); an accepted range holds a modest change in pressure (the rates are set by shares and
# normal durations, not workload). Fitted: every row here (see docs/validation.md).
RATES = {
    "s47_per_10k": (167.2, 150.0, 186.0, "section 47 enquiries started in the year per 10,000 children; DfE CIN 2020: "
                    "201,000, 167.2 (about 157 in 2016-17, 191.6 in 2022-23)"),
    "icpc_per_10k": (64.4, 55.0, 70.0, "initial child protection conferences in the year per 10,000 children; DfE CIN "
                     "2020: 77,470, 64.4 (about 65 in 2016-17, 63.2 in 2022-23, about 59 in 2024-25)"),
    "cp_plans_per_10k": (43.7, 39.0, 48.0, "children on child protection plans at the year's end per 10,000 children; "
                         "DfE CIN: 43.7 at 31 March 2019, 42.8 in 2020 (45 in 2018)"),
    "cla_per_10k": (65.0, 60.0, 71.0, "children looked after at the year's end per 10,000 children; DfE looked-after "
                    "children: 65 at 31 March 2019 (64 in 2018, 67 in 2020)"),
    "cla_started_per_10k": (26.5, 22.0, 30.0, "children starting to be looked after in the year per 10,000 children; "
                            "31,680 in 2018-19 over 11.96 million (30,970 in 2019-20, 32,050 in 2017-18)"),
    "cp_plans_per_icpc": (0.86, 0.81, 0.91, "child protection plans started in the year over initial conferences; "
                          "DfE CIN: 61,840 / 72,100 in 2024-25 (64,390 plans in 2021-22 against 74,000 to 77,000 "
                          "conferences a year)"),
    "children_in_need_per_10k": (334.0, 310.0, 360.0, "children in need at the year's end per 10,000 children; "
                                 "DfE CIN: 399,510 at 31 March 2019 (330.1 in 2020, 338.7 in 2023)"),
}

# Children in care: where they live at 31 March (shares of children in care) and why they left care in the year
# (shares of those leaving), each year. England 2019 (national-series.md A2, A3; secondary copies of DfE's release,
# so a wider tolerance): foster care 72% (kinship 13% of all); secure units, children's homes and semi-independent
# living 12% plus independent living 4%; placed with parents 7%; placed for adoption 3%. Leaving: returned home 31%
# (2018), adopted 12% (3,570 of 29,460 in 2018-19; 13% in 2018), special guardianship 13% (3,830 of 29,460; 11% in
# 2018). Fitted: every row (care.needs, care.exits, care.proceedings.orders); the Monte Carlo error of a year's
# share over 12 replications is about 1 point.
CARE = {
    "foster_pct": (72.0, 67.0, 77.0, "children in foster care of any kind (kinship, in-house, agency) at 31 March"),
    "kinship_pct": (13.0, 10.0, 16.0, "children fostered by a relative or friend at 31 March"),
    "homes_and_supported_pct": (16.0, 12.0, 20.0, "children in children's homes (secure units among them) or in "
                                "supported, semi-independent or independent living at 31 March"),
    "with_parents_pct": (7.0, 5.0, 10.0, "children placed with parents at 31 March"),
    "placed_for_adoption_pct": (3.0, 1.5, 5.0, "children placed for adoption at 31 March"),
    "ceased_home_pct": (31.0, 25.0, 38.0, "children leaving care in the year who returned home"),
    "ceased_adoption_pct": (12.0, 7.0, 17.0, "children leaving care in the year who were adopted (9% to 13% of "
                            "leavers from 2018 to 2024; fewer in the first year, from the start state)"),
    "ceased_sgo_pct": (13.0, 9.0, 17.0, "children leaving care in the year under a special guardianship order"),
}
PLACEMENT_GROUPS = {"foster_pct": ["kinship_foster", "in_house_foster", "agency_foster"],
                    "kinship_pct": ["kinship_foster"],
                    "homes_and_supported_pct": ["in_house_home", "external_home", "supported"],
                    "with_parents_pct": ["with_parents"], "placed_for_adoption_pct": ["placed_for_adoption"]}
EXITS = ["home", "adoption", "sgo", "aged_18", "other"]

# DfE CIN 2025 table C2: assessments by working days from referral to completion (2024-25)
C2_BANDS = ["0", "1_10", "11_20", "21_30", "31_40", "41_45", "46_50", "51_60", "61_plus"]
C2_COUNTS = [11680, 75590, 112180, 102260, 131380, 122730, 37640, 27860, 27500]
# DfE table D7: child protection plans ending in 2019-20, by length
D7_BANDS = ["3m_or_less", "3_6m", "6_12m", "1_2y", "2y_plus"]
D7_COUNTS = [12520, 7610, 28350, 16100, 2400]


def yearly_measures(weekly: pd.DataFrame) -> pd.DataFrame:
    """Each published measure for each simulated year, averaged over replications, from DfE-defined columns.

    Flows are summed over the year before dividing (a year's rate); rates of stocks are averaged over its weeks."""
    w = weekly.assign(year=(weekly["week"] // 52).clip(upper=YEARS - 1) + 1)
    w = w[w["week"] < 52 * YEARS]  # whole years only (a run of 5 years has 261 weeks)
    rows = {}
    for year, d in w.groupby("year"):
        s = d[["referrals", "re_referrals", "assessments_completed"]].sum()
        done = d["assessments_completed"]
        rows[year] = {
            "turnover_pct": d["turnover_rate_pct"].mean(),
            "caseload": d["caseload_mean"].mean(),
            "re_referral_pct": 100 * s["re_referrals"] / s["referrals"],
            "in_timescale_pct": (d["assessments_in_timescale_pct"] * done).sum() / done.sum(),
            "assessment_days_mean": (d["assessment_days_mean"] * done).sum() / done.sum(),
            "agency_pct": d["agency_rate_pct"].mean(),
            "vacancy_pct": d["vacancy_rate_pct"].mean(),
            "unallocated_share_pct": 100 * d["unallocated_cases"].sum()
            / d[["assessments_open", "cin_open", "cp_open", "cla_open"]].sum().sum(),
            **year_rates(d, year), **care_shares(d, year),
        }
    return pd.DataFrame(rows).T


def year_rates(d: pd.DataFrame, year: int) -> dict:
    """The case-mix rates of one simulated year (averaged over replications): flows per 10,000 children summed over
    the year, stocks per 10,000 in its last week, and plans started per conference as the ratio of the totals."""
    flows = d[["s47_enquiries_per_10k", "icpcs_per_10k", "cla_started_per_10k", "cp_plans_started", "icpcs"]]
    f = flows.groupby(d["replication"]).sum().mean()
    end = d[d["week"] == 52 * year - 1][["cp_open_per_10k", "cla_open_per_10k", "children_in_need_per_10k"]].mean()
    return {"s47_per_10k": f["s47_enquiries_per_10k"], "icpc_per_10k": f["icpcs_per_10k"],
            "cla_started_per_10k": f["cla_started_per_10k"], "cp_plans_per_icpc": f["cp_plans_started"] / f["icpcs"],
            "cp_plans_per_10k": end["cp_open_per_10k"], "cla_per_10k": end["cla_open_per_10k"],
            "children_in_need_per_10k": end["children_in_need_per_10k"]}


def care_shares(d: pd.DataFrame, year: int) -> dict:
    """Where children in care live in the last week of a year, and why those who left care in it left (shares over
    all replications' children)."""
    end = d[d["week"] == 52 * year - 1]
    out = {k: 100 * end[[f"cla_{p}" for p in ps]].sum().sum() / end["cla_open"].sum()
           for k, ps in PLACEMENT_GROUPS.items()}
    ceased = d[[f"cla_ceased_{r}" for r in EXITS]].sum()
    out.update({f"ceased_{r}_pct": 100 * ceased[f"cla_ceased_{r}"] / ceased.sum() for r in EXITS})
    return out


def assert_within(table: dict, measures: pd.DataFrame, measure: str, year: int) -> None:
    """The model's ``measure`` in ``year`` is within the accepted range its ``table`` gives, with the figure and its
    source in the message."""
    published, low, high, source = table[measure]
    got = measures.loc[year, measure]
    assert low <= got <= high, (f"year {year}, {measure}: model {got:.2f}, published {published} ({source}), "
                                f"accepted {low}-{high}")


@pytest.fixture(scope="module")
def weekly():
    return run("england-2019", years=YEARS, reps=REPS, seed=2019, jobs=2).weekly


@pytest.fixture(scope="module")
def measures(weekly):
    return yearly_measures(weekly)


@pytest.mark.parametrize("year", range(1, YEARS + 1))
@pytest.mark.parametrize("measure", list(PUBLISHED))
def test_england_2019_holds_the_published_figure_every_year(measures, measure, year):
    assert_within(PUBLISHED, measures, measure, year)


@pytest.mark.parametrize("year", range(1, YEARS + 1))
@pytest.mark.parametrize("measure", list(RATES))
def test_england_2019_sits_on_englands_case_mix_every_year(measures, measure, year):
    assert_within(RATES, measures, measure, year)


@pytest.mark.parametrize("year", range(1, YEARS + 1))
@pytest.mark.parametrize("measure", list(CARE))
def test_england_2019_children_in_care_live_and_leave_as_englands_do(measures, measure, year):
    assert_within(CARE, measures, measure, year)


@pytest.mark.parametrize("year", range(1, YEARS + 1))
def test_england_2019_has_no_growing_queue(measures, year):
    """A steady national council allocates its cases: under 1% of open cases wait unallocated, every year."""
    assert measures.loc[year, "unallocated_share_pct"] < 1.0, measures["unallocated_share_pct"]


def test_referral_to_completion_days_fall_in_dfe_c2_bands(weekly):
    """The scenario's assessment setting is working time; with waits, conferences and pressure added the
    simulated days from referral to completion fall into DfE table C2's bands within 1.5 points each."""
    got = weekly[[f"assessments_days_{b}" for b in C2_BANDS]].sum().to_numpy()
    got, want = 100 * got / got.sum(), 100 * np.array(C2_COUNTS) / sum(C2_COUNTS)
    assert np.abs(got - want).max() < 1.5, dict(zip(C2_BANDS, np.round(got - want, 2)))


def test_child_protection_plan_lengths_fall_in_dfe_d7_bands(weekly):
    """Plans ending by length (drift included) match DfE table D7 (2019-20) within 3 points each."""
    got = weekly[[f"cp_plans_ended_{b}" for b in D7_BANDS]].sum().to_numpy()
    got, want = 100 * got / got.sum(), 100 * np.array(D7_COUNTS) / sum(D7_COUNTS)
    assert np.abs(got - want).max() < 3.0, dict(zip(D7_BANDS, np.round(got - want, 2)))


@pytest.mark.slow
def test_the_baseline_sits_on_englands_case_mix_every_year():
    """The baseline (36,000 children, demand growing 2% a year) shares england-2019's case-mix settings: each rate
    within the same accepted range, every year of five (6 futures; about 30 s on 2 cores)."""
    w = run("baseline", years=YEARS, reps=6, seed=2019, jobs=2).weekly
    w = w[w["week"] < 52 * YEARS].assign(year=lambda d: d["week"] // 52 + 1)
    for year, d in w.groupby("year"):
        for measure, got in year_rates(d, year).items():
            published, low, high, source = RATES[measure]
            assert low <= got <= high, f"baseline, year {year}, {measure}: model {got:.2f}, accepted {low}-{high}"
