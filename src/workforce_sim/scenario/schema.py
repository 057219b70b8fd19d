"""The scenario: what a council looks like and how its service behaves.

These classes are the contract for scenario files. They are immutable, typed
and validated; unknown keys are errors. Units are in the key names:
``_per_year``, ``_weeks``, ``_days`` (working days), ``_share`` (0 to 1) and
``fte``. Loading, ``extends`` and ``--set`` are in :mod:`workforce_sim.scenario.loading`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, Union, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag

from .distributions import Distribution, UncertainSetting

Grade = Literal["asye", "social_worker", "senior_social_worker", "team_manager"]  # the one list of grades, in order
GRADES: tuple[Grade, ...] = get_args(Grade)
PostGrade = Literal["social_worker", "senior_social_worker", "team_manager"]
Contract = Literal["permanent", "agency"]
CaseType = Literal["assessment", "cin", "cp", "cla", "early_help"]
Work = Literal["screening", "assessment", "cin", "cp", "cla"]
HELD_CASE_TYPES = ("assessment", "cin", "cp", "cla")
SHARE_TOLERANCE = 1e-3  # shares that should add up to 1 may be off by rounding; the model rescales them


def _probability(v: float) -> float:
    if not 0.0 <= v <= 1.0:
        raise ValueError("must be a probability (0 to 1)")
    return v


def _non_negative(v: float) -> float:
    if v < 0:
        raise ValueError("must be zero or more")
    return v


def _positive(v: float) -> float:
    if v <= 0:
        raise ValueError("must be more than zero")
    return v


NAME_MAX = 80
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9 _.\-]*")
START_DATE_MIN, START_DATE_MAX = dt.date(1990, 1, 1), dt.date(2100, 12, 31)


def safe_name(v: str) -> str:
    """A scenario's name becomes its output folder (outputs/NAME), so it must be a plain folder name."""
    rule = (f"must be a plain folder name: 1 to {NAME_MAX} letters, digits, spaces, '-', '_' or '.', "
            "not starting with '.' or '-'")
    if not v or len(v) > NAME_MAX or not _SAFE_NAME.fullmatch(v):
        raise ValueError(rule)
    return v


def _start_date(v: dt.date) -> dt.date:
    if not START_DATE_MIN <= v <= START_DATE_MAX:
        raise ValueError(f"must be a date from {START_DATE_MIN} to {START_DATE_MAX}")
    return v


def _needs_every(keys: tuple[str, ...], what: str):
    """A check that a table has a value for every one of ``keys`` (every grade, every age band, ...)."""
    def check(v: dict) -> dict:
        missing = [k for k in keys if k not in v]
        if missing:
            raise ValueError(f"needs a value for every {what}; missing: {', '.join(missing)}")
        return v
    return check


_every_grade = _needs_every(GRADES, "grade")


class _ShownAsPercent:
    """Marks a setting that tables and words show as a percentage (0.04 as 4%): a share, a chance, a growth rate."""

    def __repr__(self) -> str:
        return "SHOWN_AS_PERCENT"


SHOWN_AS_PERCENT = _ShownAsPercent()
Probability = Annotated[float, AfterValidator(_probability), SHOWN_AS_PERCENT]
Growth = Annotated[float, Field(ge=-0.9, le=1.0), SHOWN_AS_PERCENT]  # a change a year: 0.03 is 3%; -90% to +100%
NonNegative = Annotated[float, AfterValidator(_non_negative)]
MONEY_MAX = 1e9  # any one amount of money in a scenario: a sum larger than £1bn is a typing slip, and would overflow


def _money(v: float) -> float:
    if not 0.0 <= v <= MONEY_MAX:
        raise ValueError(f"must be an amount of money from 0 to {MONEY_MAX:,.0f} (pounds)")
    return v


def _positive_money(v: float) -> float:
    if v <= 0:
        raise ValueError("must be more than zero")
    return _money(v)


Money = Annotated[float, AfterValidator(_money)]
PositiveMoney = Annotated[float, AfterValidator(_positive_money)]
Positive = Annotated[float, AfterValidator(_positive)]
# Every other number has a plausible range too (issue 26, item 1): a value beyond it is a typing slip, and would run
# for hours, exhaust the memory or overflow. A council of at most a few million children (population.children is at
# most 2,000,000) sees at most a million of anything a year; durations are within a century.
COUNT_MAX = 1_000_000  # children, contacts, cases or places: in a year, or at once
CONTACTS_MAX = 10_000_000  # contacts a year from all sources together, at any time in a run (England: about 2.5m)
CASES_MAX = 100_000  # open cases of one type at the start (England had about 400,000 children in need)
TOTAL_CASES_MAX, TOTAL_POSTS_MAX = 200_000, 50_000  # open cases of every group, posts of every team, together
POSTS_MAX = 10_000  # posts or staff of one grade in one team, posts a lever adds, newly qualified starters a year
WEEKS_MAX = 5218.0  # a century in weeks: the longest duration (a _days key allows as many working days, 20 years)
FACTOR_MAX = 100.0  # an effect, factor or weight: how much one thing moves another
CASELOAD_MAX = 1000.0  # cases or workload points per worker, workers per manager
GROWTH_MAX = 1.0  # a change a year: at most doubling


def _within(low: float, high: float, what: str, low_open: bool = False) -> AfterValidator:
    """A check that a number is from ``low`` (above it, with ``low_open``) to ``high``, saying so plainly."""
    def check(v: float) -> float:
        if not (low < v if low_open else low <= v) or not v <= high:
            raise ValueError(f"must be {what} {span}")
        return v

    lo, hi = (f"{x:,.0f}" if x == int(x) else f"{x:g}" for x in (low, high))
    span = f"above {lo} and at most {hi}" if low_open else f"from {lo} to {hi}"
    return AfterValidator(check)


Count = Annotated[int, _within(0, COUNT_MAX, "a whole number")]
Posts = Annotated[int, _within(0, POSTS_MAX, "a whole number")]
PerYear = Annotated[float, _within(0, COUNT_MAX, "a number")]  # how many a year (contacts, places, children)
CasesPerYear = Annotated[float, _within(0, CASES_MAX, "a number")]  # children a year who each become a held case
Duration = Annotated[float, _within(0, WEEKS_MAX, "a duration")]
PositiveDuration = Annotated[float, _within(0, WEEKS_MAX, "a duration", low_open=True)]
Factor = Annotated[float, _within(0, FACTOR_MAX, "a number")]
PositiveFactor = Annotated[float, _within(0, FACTOR_MAX, "a number", low_open=True)]
AtLeastOne = Annotated[float, _within(1, FACTOR_MAX, "a number")]  # a factor that only raises
Caseload = Annotated[float, _within(0, CASELOAD_MAX, "a number", low_open=True)]
ScenarioName = Annotated[str, AfterValidator(safe_name)]
StartDate = Annotated[dt.date, AfterValidator(_start_date)]


class Strict(BaseModel):
    """Base for every scenario section: values cannot change once loaded, unknown keys are errors,
    and numbers must be finite (no nan or inf)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _number_or_table(v) -> str:
    """Which form a manageable caseload is written in: a table by team, or one number."""
    return "table" if isinstance(v, dict) else "number"


# one number for every case-holding team, or a table by team; checked as one or the other (one error, not two)
StandardValue = Annotated[Union[Annotated[Caseload, Tag("number")], Annotated[dict[str, Caseload], Tag("table")]],
                          Discriminator(_number_or_table)]


class Standards(Strict):
    """Practice standards and the manageable-caseload threshold."""

    manageable_caseload: StandardValue = Field(
        18.0, description="cases per case-holding FTE at or below which caseloads count as manageable (local "
                          "benchmark; there is no national cap): one number for every case-holding team, or a "
                          "table by team, e.g. { assessment = 18, children_in_care = 15 }. A full-time worker's "
                          "capacity is their team's standard in workload points (a case of weight 1 is one point), "
                          "so a worker at capacity holds at most the standard number of cases")
    decision_days: PositiveDuration = Field(
        1.0, description="working days to decide on a contact (Working Together 2018)")
    assessment_days: PositiveDuration = Field(
        45.0, description="working days to complete a child and family assessment (Working Together 2018)")
    icpc_days: PositiveDuration = Field(15.0, description="working days from strategy discussion to initial child "
                                                       "protection conference")
    breach_weeks: Annotated[int, Field(ge=1, le=int(WEEKS_MAX))] = Field(
        4, description="consecutive weeks the caseload (unallocated cases included) must be above the threshold to "
                       "count as a breach")


class Source(Strict):
    """One source of contacts (police, health, schools, ...)."""

    contacts_per_year: PerYear
    referral_share: Probability = Field(description="share of this source's contacts that become referrals")
    early_help_share: Probability = Field(description="share of this source's contacts sent to early help")
    partner: bool = Field(True, description="whether the partners' threshold factor applies to this source")
    trend_per_year: Growth | None = Field(None, description="growth per year for this source; default the "
                                                            "demand-wide trend")


class Demand(Strict):
    """Contacts arriving at the front door: how many come from each source, how they grow, and how they vary by
    month."""

    sources: dict[str, Source] = Field(min_length=1)
    trend_per_year: Growth = Field(0.0, description="growth of contacts per year, e.g. 0.03 for 3% a year")
    seasonality: list[PositiveFactor] = Field(
        default_factory=lambda: [1.0] * 12, min_length=12, max_length=12,
        description="relative volume in January..December (scaled to average 1)")
    partner_threshold_factor: Factor = Field(
        1.0, description="multiplies partners' referral shares: below 1 when partners apply thresholds more tightly")


class FrontDoor(Strict):
    """The front door: how long it takes to screen and decide on one contact."""

    screening_days: Distribution = Field(description="working days one screener spends on one contact")


class Outcomes(Strict):
    """How assessments end when no child protection plan follows (shares add up to 1)."""

    nfa: Probability
    early_help: Probability
    cin: Probability
    cla: Probability


class EarlyHelp(Strict):
    """Early help for families: how many take it up, how long it lasts, how many are later referred to social
    care, and how the assessments of those step-ups end."""

    engagement_share: Probability
    duration_weeks: Distribution
    step_up_share_engaged: Probability
    step_up_share_not_engaged: Probability
    step_up_delay_weeks: Distribution
    step_up_outcomes: Outcomes | None = Field(
        None, description="how the assessments of families stepped up from early help end when no child protection "
                          "plan follows (shares add up to 1; default: as any referral's, cases.outcomes)")
    step_up_s47_share: Probability | None = Field(
        None, description="share of step-ups from early help that have a section 47 enquiry (default: "
                          "cases.s47_share)")


def _children(v: int) -> int:
    if not 1 <= v <= 2_000_000:
        raise ValueError("must be the council's number of children under 18, a whole number from 1 to 2,000,000 "
                         "(e.g. 36000)")
    return v


class Population(Strict):
    """The council's child population, for rates per 10,000 children as DfE publishes them."""

    children: Annotated[int, AfterValidator(_children)] = Field(
        description="children under 18 living in the council's area (ONS mid-year estimate): the denominator of "
                    "every rate per 10,000 children")


class PlanEnds(Strict):
    """Where a plan goes when it ends (shares add up to 1)."""

    close: Probability = 0.0
    early_help: Probability = 0.0
    cin: Probability = 0.0
    cp: Probability = 0.0
    cla: Probability = 0.0


class Plan(Strict):
    """One kind of plan: how long it lasts and what follows when it ends."""

    duration_weeks: Distribution
    ends: PlanEnds


class Plans(Strict):
    """Child in need, child protection and looked-after plans: how long each lasts and what follows it."""

    cin: Plan
    cp: Plan
    cla: Plan


class WorkloadPoints(Strict):
    """Weight of one case of each type in a worker's weighted caseload."""

    assessment: PositiveFactor = 1.0
    s47: PositiveFactor = Field(1.5, description="an assessment with a section 47 enquiry")
    cin: PositiveFactor = 1.0
    cp: PositiveFactor = 1.5
    cla: PositiveFactor = 1.0


DriftingPlan = Literal["cin", "cp", "cla"]
WaitingWork = Literal["s47", "cp", "cla", "assessment", "cin"]  # the kinds of waiting case allocation orders


def _drifting_plans() -> list[DriftingPlan]:
    return ["cin", "cp"]


def _allocation_order() -> list[WaitingWork]:
    return ["s47", "cp", "cla", "assessment", "cin"]


class Drift(Strict):
    """Plans that stop moving when their worker is overloaded or nobody holds them (illustrative)."""

    effect: Factor = Field(
        0.5, description="how much a plan slows per unit of its worker's pressure above capacity: it moves at 1 / (1 + "
                         "effect x (pressure - 1)); 0 turns drift off")
    plans: list[DriftingPlan] = Field(
        default_factory=_drifting_plans, description="plans that drift (they also stand still while unallocated)")
    outcome_effect: Factor = Field(
        0.5, description="relative rise, per year of drift, in the chance a child protection plan ends in care and in "
                         "the chance the case comes back after closing")


class Cases(Strict):
    """How referrals move through social care: assessments, section 47 enquiries, conferences, plans and the weight
    of each case."""

    assessment_days: Distribution = Field(
        description="working days of work an assessment takes once allocated, when its worker is not overloaded "
                    "(waits, pressure and conferences add to it; DfE's durations count from referral)")
    pressure_slowdown: Factor = Field(
        description="extra assessment time per unit of caseload pressure above the manageable threshold (0.8: 20% over "
                    "the threshold takes 16% longer)")
    s47_share: Probability
    icpc_share_of_s47: Probability
    cp_plan_share_of_icpc: Probability
    s47_to_icpc_days: Distribution
    outcomes: Outcomes
    plans: Plans
    workload_points: WorkloadPoints = WorkloadPoints()
    drift: Drift = Drift()


class ReReferral(Strict):
    """Closed cases coming back: how likely a case is to return, when, and what makes a return more likely.

    A returning child reaches the front door as a contact about a known child. DfE counts the
    referral a re-referral only if it is within 12 months of the child's previous referral."""

    probability: Probability = Field(description="chance a closed case comes back (within the delay), before the "
                                                 "factors below")
    late_assessment_factor: AtLeastOne = 1.0
    pressure_factor: AtLeastOne = 1.0
    early_help_not_engaged_factor: AtLeastOne = 1.0
    delay_weeks: Distribution = Field(description="weeks from closure to the contact about the returning child "
                                                  "(at most 52)")
    closed_before_start_per_year: PerYear = Field(
        0.0, description="cases closed in the year before the run starts; they may return during the first year")


class GradeCapacity(Strict):
    """The weighted caseload one full-time worker of each case-holding grade can carry at the manageable standard."""

    asye: Caseload
    social_worker: Caseload
    senior_social_worker: Caseload


class Turnover(Strict):
    """Staff leaving: how many permanent and agency staff leave each year, how pressure and supervision raise that,
    and notice periods."""

    permanent_per_year: Annotated[dict[Grade, Probability], AfterValidator(_every_grade)] = Field(
        description="share of permanent staff of each grade leaving in a year at normal pressure")
    agency_per_year: Probability
    pressure_effect: Factor = Field(description="relative rise in leaving per unit of sustained caseload pressure "
                                                     "above the threshold")
    pressure_smoothing_weeks: Annotated[float, Field(ge=1.0, le=WEEKS_MAX)] = 13.0
    waiting_pressure_share: Factor = Field(
        0.0, description="share of the work waiting unallocated for a team that its case-holders feel as pressure "
                         "(spread over them by FTE): unallocated cases sit with the team's duty worker and manager. "
                         "0: a worker feels only their own caseload")
    supervision_effect: Factor = Field(
        0.0, description="relative rise in leaving per unit of supervision overload")
    notice_weeks_permanent: Duration = 6.0
    notice_weeks_agency: Duration = 1.0


class Recruitment(Strict):
    """Filling vacant posts: how long recruitment takes, how often a round fails, and the yearly intake of newly
    qualified social workers."""

    time_to_hire_weeks: Distribution
    round_failure_share: Probability
    nqsw_cohort_size: Posts = 0
    nqsw_cohort_month: int = Field(9, ge=1, le=12)


class Agency(Strict):
    """Agency social workers: how much of the vacancy gap they cover, the cap on their numbers, and when teams take
    on more under pressure."""

    max_share_of_posts: Probability = Field(description="cap on agency FTE as a share of funded case-work posts")
    cover_share: Probability = Field(1.0, description="share of vacancies the council seeks agency cover for")
    time_to_start_weeks: Distribution
    project_share_of_posts: Probability = Field(
        0.0, description="agency FTE a team may buy above its establishment under sustained pressure, as a share of "
                         "its posts (0: never)")
    project_pressure: PositiveFactor = Field(
        1.15, description="a team buys agency above establishment while its smoothed pressure (held and waiting work "
                          "over capacity) is above this")
    project_release_pressure: PositiveFactor = Field(
        0.95, description="agency above establishment is released, one a week, while the team's smoothed pressure is "
                          "below this")
    leavers_return_share: Probability = Field(
        0.0, description="share of permanent leavers under sustained pressure who come back as agency workers to cover "
                         "their own post")
    return_pressure: PositiveFactor = Field(
        1.0, description="smoothed caseload pressure above which a permanent leaver may come back as an agency worker")
    offers_per_year_per_post: Annotated[float, _within(0, CASELOAD_MAX, "a number")] | None = Field(
        None, description="agency workers the market can offer this council in a year, per funded post at the start "
                          "(none: no limit); requests beyond it wait, the post vacant, until the market has a worker")
    premium_rise: Factor = Field(
        0.0, description="how the agency premium moves with demand: it rises by this share of itself for each unit by "
                         "which the council's requests in the last 52 weeks exceed the market's offers a year")
    national_rules_2024: bool = Field(
        False, description="apply the national rules for agency child and family social workers (DfE statutory "
                           "guidance, in force from 31 October 2024): a price cap on the premium, a limit on agency "
                           "workers above the establishment, a cooling-off period before a permanent leaver returns "
                           "as agency, and agency notice no longer than 4 weeks")
    price_cap_premium_per_year: Money | None = Field(
        None, description="under the national rules, the most the agency premium may reach, a year per FTE in the "
                          "prices of the start date (none: the premium in costs)")
    cooling_off_weeks: Duration = Field(
        13.0, description="under the national rules, weeks after leaving a permanent post before the leaver may "
                          "work as agency for the same council (the guidance: three months)")
    project_share_of_posts_under_rules: Probability = Field(
        0.0, description="under the national rules, agency FTE a team may buy above its establishment, as a share of "
                         "its posts (the lower of this and project_share_of_posts)")


class Allocation(Strict):
    """How team managers give cases to workers (practice notes: allocation)."""

    ceiling_share: AtLeastOne = Field(
        1.3, description="when nobody has room under capacity, cases go to the least loaded worker up to this multiple "
                         "of capacity; above it they wait unallocated")
    priority: list[WaitingWork] = Field(
        default_factory=_allocation_order,
        description="order in which waiting cases are allocated (s47: assessments with a section 47 enquiry); first "
                    "come first served within each")
    strategy_discussion_days: Duration = Field(
        1.0, description="working days from a referral to its section 47 strategy discussion, held on a duty basis "
                         "whether or not the case is allocated")


class Absence(Strict):
    """Sickness absence: the share of working time lost and how long a typical spell lasts."""

    rate: Probability = Field(description="share of working time lost to sickness absence")
    mean_spell_weeks: Annotated[float, Field(ge=1.0, le=WEEKS_MAX)] = 2.0


class Workforce(Strict):
    """The social work workforce: caseload capacity, new starters, leaving, recruitment, agency cover, absence and
    case allocation."""

    capacity_points: GradeCapacity | None = Field(
        None, description="weighted caseload one FTE can be allocated, by grade, the same in every team; when left "
                          "out (as in the bundled scenarios), it is the team's manageable standard in points, so a "
                          "worker at capacity is at the standard, not above it. Pressure is always measured against "
                          "the standard")
    asye_protected_share: Probability = 0.9
    asye_weeks: PositiveDuration = 52.0
    ramp_up_weeks: Duration = 12.0
    ramp_up_start_share: Probability = 0.5
    manager_span: Caseload = Field(8.0, description="social workers one team manager FTE can supervise")
    turnover: Turnover
    recruitment: Recruitment
    agency: Agency
    absence: Absence
    allocation: Allocation = Allocation()


class Costs(Strict):
    """What staff and recruitment cost (councils should put in their own figures)."""

    salary: Annotated[dict[Grade, PositiveMoney], AfterValidator(_every_grade)] = Field(
        description="annual basic pay per FTE at the start date, by grade")
    on_cost_share: Probability = Field(
        description="employer on-costs (pension, National Insurance) as a share of salary")
    pay_award_per_year: Annotated[float, SHOWN_AS_PERCENT] = Field(
        ge=-0.5, le=1.0, description="pay rise applied each 1 April")
    agency_premium_per_year: Money = Field(
        description="extra cost of an agency FTE over a permanent one (salary and on-costs)")
    cost_per_hire: Money = Field(description="cost of each permanent hire (interviews, checks, induction)")
    cost_per_recruitment_round: Money = Field(
        description="cost of each recruitment round (advert, agency search)")
    asye_support_per_starter: Money = Field(description="support and training for each newly qualified starter")
    deflator_per_year: Annotated[float, SHOWN_AS_PERCENT] = Field(0.02, ge=-0.5, le=1.0, description=(
        "general inflation a year (HM Treasury GDP deflator) used to show costs in real terms, in the prices of the "
        "financial year the run starts in"))
    discount_rate: Annotated[float, SHOWN_AS_PERCENT] = Field(0.035, ge=0.0, le=1.0, description=(
        "discount rate a year for net present cost (HM Treasury Green Book: 3.5%), applied to real-terms costs"))


# -- children in care as the budget sees them -----------------------------------------------
AgeBand = Literal["under_1", "1_4", "5_9", "10_15", "16_17"]
AGE_BANDS: tuple[AgeBand, ...] = get_args(AgeBand)
AGE_BAND_YEARS = {"under_1": (0.0, 1.0), "1_4": (1.0, 5.0), "5_9": (5.0, 10.0), "10_15": (10.0, 16.0),
                  "16_17": (16.0, 18.0)}
# where a child lives while looked after (DfE SSDA903 placement types, grouped); "foster" in a need is a foster
# place with a carer who is not family: in-house when the council has a place, otherwise an agency's
PlacementNeed = Literal["kinship_foster", "foster", "childrens_home", "supported", "with_parents", "other"]
PLACEMENTS = ("kinship_foster", "in_house_foster", "agency_foster", "in_house_home", "external_home", "supported",
              "with_parents", "placed_for_adoption", "other")
ExitReason = Literal["home", "adoption", "sgo", "other"]
EXIT_REASONS = ("home", "adoption", "sgo", "aged_18", "other")


def _shares(v: dict) -> dict:
    total = sum(v.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ValueError(f"shares must add up to 1 (they add up to {total:.4g})")
    return v


_every_band = _needs_every(AGE_BANDS, f"age band ({', '.join(AGE_BANDS)})")


AgeMix = Annotated[dict[AgeBand, Probability], AfterValidator(_every_band), AfterValidator(_shares)]
NeedMix = Annotated[dict[PlacementNeed, Probability], AfterValidator(_shares)]
ExitMix = Annotated[dict[ExitReason, Probability], AfterValidator(_shares)]
Order = Literal["care_order", "sgo", "home"]
OrderMix = Annotated[dict[Order, Probability], AfterValidator(_shares)]


class Proceedings(Strict):
    """Care proceedings (section 31): a state of a child's time in care, with its own weight on the caseload and a
    legal cost, ending in an order."""

    share_of_entries: Probability = Field(
        description="share of children starting care (other than unaccompanied asylum-seeking children) who do so "
                    "in care proceedings; the rest are accommodated under section 20")
    duration_weeks: Distribution = Field(description="weeks from issue to the final order (MoJ family court "
                                                     "statistics: mean weeks to first disposal)")
    orders: OrderMix = Field(description="the final order: a care order (the child stays in care), a special "
                                         "guardianship order (the child leaves care to their guardian), or home "
                                         "(a supervision order or no order)")
    extra_points: Factor = Field(
        0.5, description="workload points a child in proceedings weighs on top of a child in care's")
    legal_cost: Money = Field(
        description="legal cost of one child's proceedings (solicitors, counsel, court fees, experts), counted "
                    "when issued")


class InHousePool(Strict):
    """The council's own places of one kind (foster carers' places, beds in its children's homes): recruited and
    lost; when none is free, a child who needs one goes to an agency or a private home at its price."""

    places: Count = Field(description="places approved on the start date")
    recruited_per_year: PerYear = Field(0.0, description="new places approved a year")
    lost_per_year: Probability = Field(0.0, description="share of places lost a year (carers leaving or retiring)")


class CareLeavers(Strict):
    """Young people who leave care at 18: supported by a personal adviser to 21, or 25 on request."""

    at_start: Annotated[int, _within(0, CASES_MAX, "a whole number")] = Field(
        description="care leavers aged 18 to 20 the service supports on the start date")
    to_25_share: Probability = Field(description="share who ask for support to 25")
    personal_advisers_fte: PerYear = Field(description="personal advisers in post (their caseload is care "
                                                           "leavers per adviser)")
    cost_per_year: Money = Field(description="cost of supporting one care leaver a year (adviser time, "
                                                   "accommodation and allowances)")


class Care(Strict):
    """Children in care as the budget sees them: who comes in (age, route), where they live (placement type and the
    council's own places), how they leave (reason, 18th birthday), court proceedings, care leavers and the weekly
    price of each placement."""

    entry_age: AgeMix = Field(description="age on starting care (DfE SSDA903, starts by age)")
    age_at_start: AgeMix = Field(description="age of the children in care on the start date (DfE, at 31 March)")
    needs: Annotated[dict[AgeBand, NeedMix], AfterValidator(_every_band)] = Field(
        description="by age band on starting: the placement a child needs (foster: an in-house place if free, "
                    "else an agency's; childrens_home: an in-house bed if free, else a private home)")
    exits: Annotated[dict[AgeBand, ExitMix], AfterValidator(_every_band)] = Field(
        description="by age band on starting: how a child leaves care unless an order in proceedings or their "
                    "18th birthday ends it first")
    adoption_weeks: Distribution = Field(description="weeks from starting care to an adoption order")
    placed_for_adoption_weeks: Duration = Field(
        description="weeks a child to be adopted lives with the adopters (placed for adoption) before the order")
    uasc_per_year: CasesPerYear = Field(
        0.0, description="unaccompanied asylum-seeking children arriving a year (their own stream: no referral)")
    proceedings: Proceedings
    foster_places: InHousePool
    home_places: InHousePool = InHousePool(places=0)
    leavers: CareLeavers
    weekly_price: Annotated[dict[str, Money], AfterValidator(lambda v: _every_placement(v))] = Field(
        description="price of a week in each placement type, at the start date")
    price_growth_per_year: Annotated[float, SHOWN_AS_PERCENT] = Field(
        0.0, ge=-0.5, le=1.0, description="rise in every placement price, the legal cost and the cost of care "
                                          "leavers each 1 April")
    residential_growth_per_year: Annotated[float, SHOWN_AS_PERCENT] = Field(
        0.0, ge=-0.5, le=1.0, description="further rise in the price of children's homes each 1 April")


def _every_placement(v: dict) -> dict:
    unknown = [k for k in v if k not in PLACEMENTS]
    if unknown:
        raise ValueError(f"unknown placement type {unknown[0]!r}; one of {', '.join(PLACEMENTS)}")
    missing = [k for k in PLACEMENTS if k not in v]
    if missing:
        raise ValueError(f"needs a price for every placement type; missing: {', '.join(missing)}")
    return v


# -- investment levers ---------------------------------------------------------------------
class LeverBase(Strict):
    """Common to every lever: when it runs and its running cost."""

    label: str = Field("", description="a name for the lever in outputs")
    start: dt.date
    end: dt.date | None = Field(None, description="last day (none: to the end of the run)")
    cost_per_year: Money = Field(0.0, description="running cost while the lever is in force")
    one_off_cost: Money = Field(0.0, description="cost on the start date")


class ExtraPosts(LeverBase):
    """Lever: extra funded posts of one grade added to a team."""

    type: Literal["extra_posts"]
    team: str
    grade: PostGrade = "social_worker"
    posts: Posts = Field(1, description="extra funded posts (their pay is counted in staff costs)")


class TeamManagers(LeverBase):
    """Lever: extra team manager posts in a team, giving more supervision capacity."""

    type: Literal["team_managers"]
    team: str
    posts: Posts = Field(1, description="extra team manager posts (more supervision capacity)")


def _retained_grades() -> list[Grade]:
    return ["social_worker", "senior_social_worker"]


class Retention(LeverBase):
    """Lever: a retention payment that makes eligible permanent staff less likely to leave."""

    type: Literal["retention"]
    leaving_reduction: Probability = Field(0.15, description="relative fall in leaving among eligible permanent staff")
    payment_per_worker_per_year: Money = 2000.0
    grades: list[Grade] = Field(default_factory=_retained_grades)


class RecruitmentCampaign(LeverBase):
    """Lever: a recruitment campaign that makes hiring quicker and means fewer recruitment rounds fail."""

    type: Literal["recruitment_campaign"]
    time_to_hire_factor: Annotated[float, Field(gt=0, le=1)] = Field(
        0.8, description="recruitment rounds take this share of their usual time")
    round_failure_reduction: Probability = Field(0.3, description="relative fall in the share of rounds that fail")


class NqswAcademy(LeverBase):
    """Lever: an academy that brings in extra newly qualified social workers each year."""

    type: Literal["nqsw_academy"]
    extra_cohort: Posts = Field(4, description="newly qualified social workers each year on top of the usual cohort")
    cost_per_starter: Money = Field(5000.0, description="supervision and training for each extra starter")
    team: str | None = Field(None, description="team given new posts when there are not enough vacancies (default: the "
                                               "largest case-holding team)")


class AgencyCap(LeverBase):
    """Lever: a lower limit on agency staff, with those above it released over a set number of weeks."""

    type: Literal["agency_cap"]
    max_share_of_posts: Probability = Field(description="new cap on agency FTE as a share of funded posts")
    release_over_weeks: Duration = Field(26.0, description="agency staff above the new cap are released evenly over "
                                                              "this many weeks")


class EarlyHelpInvestment(LeverBase):
    """Lever: investment in early help, so more families engage and fewer step up to social care or come back."""

    type: Literal["early_help"]
    engagement_increase: Probability = Field(0.10, description="added to the share of families who engage with "
                                                               "early help")
    step_up_reduction: Probability = Field(0.20, description="relative fall in step-ups from early help to social care")
    re_referral_reduction: Probability = Field(0.10, description="relative fall in returns of cases stepped down to "
                                                                 "early help")


class ThresholdTraining(LeverBase):
    """Lever: threshold training for partner agencies, so they make fewer contacts and fewer of them become
    referrals."""

    type: Literal["threshold_training"]
    contact_reduction: Probability = Field(0.05, description="relative fall in contacts from partner agencies")
    referral_reduction: Probability = Field(0.10, description="relative fall in partners' contacts that "
                                                              "become referrals")


class FosterCarers(LeverBase):
    """Lever: recruiting more of the council's own foster carers, so fewer children go to an agency's carers."""

    type: Literal["foster_carers"]
    places_per_year: PerYear = Field(6.0, description="extra in-house foster places approved a year")
    cost_per_place: Money = Field(
        10000.0, description="cost of recruiting, assessing and approving one place (marketing, assessment, panel)")


class EdgeOfCare(LeverBase):
    """Lever: intensive support for families on the edge of care, so fewer children start to be looked after."""

    type: Literal["edge_of_care"]
    entry_reduction: Probability = Field(
        0.10, description="relative fall in children starting care (those kept at home stay on a child in need "
                          "plan)")


class ResidentialStepDown(LeverBase):
    """Lever: planned moves of children from children's homes to foster families (or, at 16 and 17, supported
    accommodation)."""

    type: Literal["residential_step_down"]
    children_per_year: CasesPerYear = Field(4.0, description="children moved from children's homes a year")
    cost_per_child: Money = Field(
        8000.0, description="support for each move (matching, transition and support for the new carers)")


class Reunification(LeverBase):
    """Lever: support for children to return home safely and sooner."""

    type: Literal["reunification"]
    length_reduction: Probability = Field(
        0.20, description="relative fall in the time in care of children who will return home, for those starting "
                          "care while it runs")


CARE_LEVERS = ("foster_carers", "edge_of_care", "residential_step_down", "reunification")
Lever = Annotated[
    Union[ExtraPosts, TeamManagers, Retention, RecruitmentCampaign, NqswAcademy, AgencyCap,
          EarlyHelpInvestment, ThresholdTraining, FosterCarers, EdgeOfCare, ResidentialStepDown, Reunification],
    Field(discriminator="type"),
]


class Team(Strict):
    """One team: the work it does (front-door screening or which case types it holds) and its funded posts by grade."""

    handles: list[Work] = Field(min_length=1)
    posts: dict[PostGrade, Posts]


class StaffGroup(Strict):
    """A group of staff in post on the start date: their team, grade, contract, hours and time in post."""

    team: str
    grade: Grade
    contract: Contract = "permanent"
    fte: Annotated[float, Field(gt=0, le=1)] = 1.0
    count: Annotated[int, Field(ge=1, le=POSTS_MAX)] = 1
    weeks_in_post: Duration = 104.0


class CaseGroup(Strict):
    """A group of cases already open on the start date: their type, how many, and how long they have been open."""

    type: CaseType
    count: Annotated[int, Field(ge=1, le=CASES_MAX)]
    weeks_open: Duration = 0.0


class Scenario(Strict):
    """A whole council: its demand, how cases flow, its workforce, teams, staff and open cases at the start, costs
    and levers."""

    name: ScenarioName = Field(description="names the output folder (outputs/NAME), so a plain folder name")
    description: str = ""
    start_date: StartDate
    population: Population | None = Field(None, description=(
        "the council's child population; a scenario file must give it (the loader says so), a run folder written "
        "before it existed has none"))
    standards: Standards = Standards()
    demand: Demand
    front_door: FrontDoor
    early_help: EarlyHelp
    cases: Cases
    re_referral: ReReferral
    workforce: Workforce
    teams: dict[str, Team] = Field(min_length=1)
    staff: list[StaffGroup] = Field(default_factory=list)
    open_cases: list[CaseGroup] = Field(default_factory=list)
    costs: Costs
    care: Care | None = Field(None, description=(
        "children in care as the budget sees them (placements, proceedings, care leavers and their prices); without "
        "it children in care are a headcount on the caseload and cost nothing"))
    levers: list[Lever] = Field(default_factory=list)
    changes: list[str] = Field(default_factory=list, description=(
        "settings changed for this run on the command line (--set, --start), recorded by workforce-sim"))
    uncertain: dict[str, UncertainSetting] = Field(default_factory=dict, description=(
        "settings whose value is not known, by key path (e.g. workforce.turnover.pressure_effect): what each "
        "could be. Usually written in place of the value, as { uncertain = \"uniform\", low = 0.5, high = 2.5 }; "
        "the value itself is then the central one, which ordinary runs use"))

    @property
    def label(self) -> str:
        """The scenario's name with the settings changed for this run, e.g. "baseline, demand.trend_per_year=0.05"."""
        return ", ".join([self.name, *self.changes])

    def contacts_at_most(self, years: float) -> float:
        """The most contacts a year the scenario's demand reaches in a run of ``years`` (each source at the start or
        at the end, by its trend), for the run-length check: growth compounds, so a trend that is plausible over
        five years can be far beyond any council's demand over fifty."""
        d = self.demand
        return sum(src.contacts_per_year * max(1.0, (1.0 + (d.trend_per_year if src.trend_per_year is None
                                                             else src.trend_per_year)) ** years)
                   for src in d.sources.values())

    def case_holding_teams(self) -> list[str]:
        """Teams that hold cases (handle any case type), in file order."""
        return [name for name, t in self.teams.items() if set(t.handles) & set(HELD_CASE_TYPES)]

    def standard(self, team: str) -> float:
        """The manageable caseload of case-holding ``team`` (cases per case-holding FTE)."""
        m = self.standards.manageable_caseload
        return float(m[team]) if isinstance(m, dict) else float(m)

    def service_standard(self) -> float:
        """The manageable caseload of the service as a whole: the team standards weighted by each team's
        case-holding posts (the one standard when there is one)."""
        m = self.standards.manageable_caseload
        if not isinstance(m, dict):
            return float(m)
        teams = self.case_holding_teams()
        posts = [sum(n for g, n in self.teams[t].posts.items() if g != "team_manager") for t in teams]
        if sum(posts) <= 0:
            return sum(self.standard(t) for t in teams) / len(teams)
        return float(sum(p * self.standard(t) for p, t in zip(posts, teams)) / sum(posts))

    def largest_case_holding_team(self) -> str:
        """The case-holding team with the most social worker posts (the first such, on a tie)."""
        return max(self.case_holding_teams(), key=lambda name: self.teams[name].posts.get("social_worker", 0))

    def problems(self) -> list[tuple[str, object, str]]:
        """Cross-checks between sections: (key path, value, what was expected)."""
        return (self._share_problems() + self._team_problems() + self._staff_problems() + self._lever_problems()
                + self._workforce_problems() + self._care_problems() + self._size_problems())

    def _size_problems(self) -> list[tuple[str, object, str]]:
        """Totals within any council's (issue 26, item 1): each group is bounded, but not how many groups there are."""
        out: list[tuple[str, object, str]] = []
        cases = sum(g.count for g in self.open_cases)
        if cases > TOTAL_CASES_MAX:
            out.append(("open_cases", cases, f"at most {TOTAL_CASES_MAX:,} open cases in all (a council of 2 million "
                                             "children has about 70,000 children in need)"))
        posts = sum(n for t in self.teams.values() for n in t.posts.values())
        if posts > TOTAL_POSTS_MAX:
            out.append(("teams", posts, f"at most {TOTAL_POSTS_MAX:,} posts in all teams together (England has about "
                                        "33,000 children's social workers)"))
        return out

    def _care_problems(self) -> list[tuple[str, object, str]]:
        """Supported accommodation only from 16; levers on placements need the care section."""
        out: list[tuple[str, object, str]] = []
        if self.care is not None:
            for band in AGE_BANDS[:-1]:
                if self.care.needs[band].get("supported", 0.0) > 0:
                    out.append((f"care.needs.{band}.supported", self.care.needs[band]["supported"],
                                "0 here: supported accommodation is for young people aged 16 and 17 only"))
            return out
        for i, lv in enumerate(self.levers):
            if lv.type in CARE_LEVERS:
                out.append((f"levers.{i}.type", lv.type, "a lever that needs a [care] section in the scenario "
                            "(placements and their prices, which it acts on); add one, or remove the lever"))
        return out

    def _share_problems(self) -> list[tuple[str, object, str]]:
        """Shares that must add up to 1, plans that end in their own type, sources that send more than all."""
        out: list[tuple[str, object, str]] = []
        for key, s in (("cases.outcomes", self.cases.outcomes), ("early_help.step_up_outcomes",
                                                                self.early_help.step_up_outcomes)):
            if s is None:
                continue
            total = s.nfa + s.early_help + s.cin + s.cla
            if abs(total - 1.0) > SHARE_TOLERANCE:
                out.append((key, round(total, 6), "shares must add up to 1"))
        for kind in ("cin", "cp", "cla"):
            e = getattr(self.cases.plans, kind).ends
            t = e.close + e.early_help + e.cin + e.cp + e.cla
            if abs(t - 1.0) > SHARE_TOLERANCE:
                out.append((f"cases.plans.{kind}.ends", round(t, 6), "shares must add up to 1"))
            if getattr(e, kind) > 0:
                out.append((f"cases.plans.{kind}.ends.{kind}", getattr(e, kind),
                            "a plan cannot end in a plan of its own type"))
        for name, src in self.demand.sources.items():
            r = src.referral_share * (self.demand.partner_threshold_factor if src.partner else 1.0)
            if r + src.early_help_share > 1.0 + 1e-9:
                out.append((f"demand.sources.{name}", round(r + src.early_help_share, 6),
                            "referral share (after the partner threshold factor) plus early help share must "
                            "be at most 1"))
        return out

    def _team_problems(self) -> list[tuple[str, object, str]]:
        """Every kind of work handled by some team, and the front door holding no cases."""
        out: list[tuple[str, object, str]] = []
        handled: dict[str, list[str]] = {}
        for tname, team in self.teams.items():
            for w in team.handles:
                handled.setdefault(w, []).append(tname)
            if "screening" in team.handles and len(team.handles) > 1:
                out.append((f"teams.{tname}.handles", list(team.handles),
                            "a team that screens contacts at the front door cannot also hold cases"))
        for work in ("screening",) + HELD_CASE_TYPES:
            if work not in handled:
                out.append(("teams", sorted(self.teams), f"some team must handle '{work}'"))
        reserved = {"service", "mean", "max", "p90", "worst_team"}
        for tname in self.case_holding_teams():
            if tname in reserved or tname.startswith("incl_unallocated"):
                out.append((f"teams.{tname}", tname, "another name: 'service', 'mean', 'max', 'p90', 'worst_team' "
                            "and names starting 'incl_unallocated' are taken by the service-wide caseload columns"))
        if self.population is None:
            out.append(("population.children", None, "the number of children under 18 in the council's area (ONS "
                        "mid-year estimate), for rates per 10,000 children: [population] children = 36000"))
        return out + self._standard_problems()

    def _standard_problems(self) -> list[tuple[str, object, str]]:
        """A table of standards names every case-holding team and nothing else."""
        m = self.standards.manageable_caseload
        if not isinstance(m, dict):
            return []
        holding = self.case_holding_teams()
        out: list[tuple[str, object, str]] = [
            (f"standards.manageable_caseload.{t}", m[t], f"a case-holding team: one of {', '.join(holding)}")
            for t in m if t not in holding]
        missing = [t for t in holding if t not in m]
        if missing:
            out.append(("standards.manageable_caseload", sorted(m),
                        f"a standard for every case-holding team (missing: {', '.join(missing)})"))
        return out

    def _staff_problems(self) -> list[tuple[str, object, str]]:
        """Staff groups in known teams, never more in post than the team's posts."""
        out: list[tuple[str, object, str]] = []
        in_post: dict[tuple[str, str], int] = {}
        for i, g in enumerate(self.staff):
            if g.team not in self.teams:
                out.append((f"staff.{i}.team", g.team, f"one of the teams: {', '.join(sorted(self.teams))}"))
                continue
            post: PostGrade = "social_worker" if g.grade == "asye" else g.grade
            in_post[(g.team, post)] = in_post.get((g.team, post), 0) + g.count
            n_posts = self.teams[g.team].posts.get(post, 0)
            if in_post[(g.team, post)] > n_posts:
                out.append((f"staff.{i}.count", g.count,
                            f"at most {n_posts} {post} posts in team {g.team} (teams.{g.team}.posts.{post}); "
                            f"staff in post would number {in_post[(g.team, post)]}"))
        return out

    def _lever_problems(self) -> list[tuple[str, object, str]]:
        """Levers within the run's dates and in known teams."""
        out: list[tuple[str, object, str]] = []
        for i, lv in enumerate(self.levers):
            if lv.start < self.start_date:
                out.append((f"levers.{i}.start", lv.start.isoformat(),
                            f"on or after the scenario's start_date ({self.start_date}); to move a scenario and its "
                            "levers together, use --start DATE"))
            if lv.end is not None and lv.end < lv.start:
                out.append((f"levers.{i}.end", lv.end.isoformat(), f"on or after the lever's start ({lv.start})"))
            team = getattr(lv, "team", None)
            if team is not None and team not in self.teams:
                out.append((f"levers.{i}.team", team, f"one of the teams: {', '.join(sorted(self.teams))}"))
        return out

    def _workforce_problems(self) -> list[tuple[str, object, str]]:
        """Allocation priorities, agency pressures and newly qualified cohorts that can be placed."""
        out: list[tuple[str, object, str]] = []
        prio = self.workforce.allocation.priority
        if sorted(prio) != sorted(["s47", "cp", "cla", "assessment", "cin"]):
            out.append(("workforce.allocation.priority", list(prio),
                        "each of s47, cp, cla, assessment and cin exactly once"))
        if self.workforce.agency.project_release_pressure >= self.workforce.agency.project_pressure:
            out.append(("workforce.agency.project_release_pressure", self.workforce.agency.project_release_pressure,
                        f"below workforce.agency.project_pressure ({self.workforce.agency.project_pressure:g})"))
        if self.workforce.recruitment.nqsw_cohort_size > 0 and not any(
            t.posts.get("social_worker", 0) > 0 and set(t.handles) & set(HELD_CASE_TYPES) for t in self.teams.values()
        ):
            out.append(("workforce.recruitment.nqsw_cohort_size", self.workforce.recruitment.nqsw_cohort_size,
                        "newly qualified cohorts need social_worker posts in a case-holding team"))
        return out
