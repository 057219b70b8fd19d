"""The model against published figures: scenarios/england-2019.toml reproduces England's 2019 figures.

Each check names the published figure, its source and the tolerance allowed. Values are
averaged over replications of the first two simulated years (2019-02 to 2021-01).
"""

import pandas as pd
import pytest

from workforce_sim import run

# measure: (published value, lowest accepted, highest accepted, source)
PUBLISHED = {
    "turnover_pct": (15.1, 13.5, 17.5, "DfE Children's social work workforce 2019: FTE turnover 15.1%"),
    "caseload": (16.9, 15.5, 18.5, "DfE Children's social work workforce 2019: 16.9 cases per case-holding FTE"),
    "re_referral_pct": (22.6, 20.5, 24.5, "DfE Characteristics of children in need 2019: 22.6% of referrals"),
    "in_timescale_pct": (82.7, 80.0, 87.0, "DfE CIN 2018: 82.7% of assessments within 45 working days (2017-18)"),
    "assessment_days_mean": (32.0, 29.0, 35.0, "DfE CIN 2019: mean assessment duration 32 working days"),
    "agency_pct": (15.9, 13.5, 18.5, "DfE workforce 2019: 5,800 agency FTE against 30,700 in post"),
    "vacancy_pct": (16.3, 14.0, 20.0, "DfE workforce 2019: 6,000 vacancies against 30,700 in post"),
}


def calibration_measures(weekly: pd.DataFrame) -> pd.DataFrame:
    """Per replication, each published measure computed the way the DfE defines it."""
    w = weekly.assign(perm=weekly["staff_fte"] - weekly["staff_fte_agency"])
    g = w.groupby("replication")
    years = w["week"].nunique() / (365.25 / 7)
    done = g["assessments_completed"].sum()
    return pd.DataFrame({
        "turnover_pct": 100 * g["leavers_permanent"].sum() / years / g["perm"].mean(),
        "caseload": g["caseload_mean"].mean(),
        "re_referral_pct": 100 * g["re_referrals"].sum() / (g["referrals"].sum() + g["re_referrals"].sum()),
        "in_timescale_pct": g.apply(lambda d: (d["assessments_in_timescale_pct"] * d["assessments_completed"]).sum()) / done,
        "assessment_days_mean": g.apply(lambda d: (d["assessment_days_mean"] * d["assessments_completed"]).sum()) / done,
        "agency_pct": 100 * g["staff_fte_agency"].mean() / g["staff_fte"].mean(),
        "vacancy_pct": 100 * g["vacancies_fte"].mean() / (g["vacancies_fte"].mean() + g["perm"].mean()),
    })


@pytest.fixture(scope="module")
def measures():
    return calibration_measures(run("england-2019", years=2, reps=8, seed=2019, jobs=2).weekly)


@pytest.mark.parametrize("measure", list(PUBLISHED))
def test_england_2019_reproduces_the_published_figure(measures, measure):
    published, low, high, source = PUBLISHED[measure]
    got = measures[measure].mean()
    assert low <= got <= high, f"{measure}: model {got:.1f}, published {published} ({source}), accepted {low}-{high}"
