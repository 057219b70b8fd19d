"""Every measure the model keeps, declared once: its name, kind, unit and meaning.

This registry is the contract of ``weekly.csv`` (the published measures, in
column order) and the list of internal flows and stocks the parts of the model
may count. The :class:`~workforce_sim.model.monitoring.Monitor` refuses a name
that is not declared here, so a misspelt key fails at once instead of becoming
a column of zeros. Charts, summaries and the docs read labels and units from
here.

Kinds:

- ``flow``: counted into the week in which it happens (contacts, leavers, ...);
- ``stock``: read once a week just before the week ends (open cases, staff, ...);
- ``derived``: worked out from flows and stocks when a replication ends
  (percentages, means); ``cost``: money, from :mod:`.costs`.

A name with ``{grade}``, ``{source}`` or ``{lever}`` is a family: one measure
per grade, per source of contacts, or per lever of the stated type.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..scenario.schema import GRADES


@dataclass(frozen=True)
class Measure:
    """One weekly measure: what it is called, what kind of quantity, its unit and what it means."""

    name: str
    kind: str  # "flow", "stock", "derived" or "cost"
    unit: str
    meaning: str
    published: bool = True  # a column of weekly.csv
    lever_type: str | None = None  # for a {lever} family: the lever type that has it
    item: str = ""  # for a cost: its line of the budget as a finance officer reads it (section 251's headings)
    per_10k_of: str | None = None  # a rate: this measure per 10,000 children (population.children), week by week
    ratio_of: tuple[str, str] | None = None  # a ratio of two flows: summaries also give the ratio of their totals

    @property
    def label(self) -> str:
        """A short label for charts and tables: the meaning up to its first comma or bracket."""
        cut = min((i for i in (self.meaning.find(","), self.meaning.find(" (")) if i > 0), default=len(self.meaning))
        text = self.meaning[:cut]
        return text[:1].upper() + text[1:]


def _m(name, kind, unit, meaning, published=True, lever_type=None, item="", per_10k_of=None, ratio_of=None) -> Measure:
    return Measure(name, kind, unit, meaning, published, lever_type, item, per_10k_of, ratio_of)


def _rate(of: str, kind: str, meaning: str) -> Measure:
    """``of`` per 10,000 children (population.children), as DfE publishes rates."""
    return _m(f"{of}_per_10k", kind, "per 10,000 children", meaning, per_10k_of=of)


_PLACEMENT_WORDS = {
    "kinship_foster": "with foster carers who are family or friends (kinship)",
    "in_house_foster": "with the council's own foster carers", "agency_foster": "with an agency's foster carers",
    "in_house_home": "in the council's own children's homes", "external_home": "in private children's homes",
    "supported": "in supported accommodation (16 and 17)", "with_parents": "placed with parents",
    "placed_for_adoption": "placed for adoption", "other": "in other placements"}
_EXIT_WORDS = {"home": "returned home (a supervision order or no order among them)", "adoption": "adopted",
               "sgo": "under a special guardianship order", "aged_18": "on their 18th birthday",
               "other": "for other reasons (independent living, a residence order, ...)"}
_CARE = [  # children in care as the budget sees them (model/care.py; zeros in a scenario without a [care] section)
    *(_m(f"cla_{p}", "stock", "children", f"children in care living {w}") for p, w in _PLACEMENT_WORDS.items()),
    *(_m(f"cla_ceased_{r}", "flow", "children", f"children leaving care {w}") for r, w in _EXIT_WORDS.items()),
    _m("uasc_started", "flow", "children", "unaccompanied asylum-seeking children starting care"),
    _m("care_entries_avoided", "flow", "children",
       "children kept at home on a child in need plan by edge-of-care support instead of starting care"),
    _m("placement_moves", "flow", "moves", "children moving placement (to adopters, or their in-house place lost)"),
    _m("proceedings_issued", "flow", "children", "children whose care proceedings were issued"),
    _m("proceedings_open", "stock", "children", "children in care proceedings"),
    _m("foster_places_in_house", "stock", "places", "places with the council's own foster carers"),
    _m("care_leavers", "stock", "young people", "care leavers supported by a personal adviser (18 to 21, or 25)"),
    _m("care_leavers_per_adviser", "stock", "young people per FTE", "care leavers per personal adviser FTE"),
]

_PUBLISHED = [
    _m("contacts", "flow", "contacts", "contacts reaching the front door"),
    _m("contacts_returning", "flow", "contacts",
       "contacts about children coming back after their case closed (screened at the front door, then referred)"),
    _m("referrals", "flow", "referrals", "referrals accepted, re-referrals included (DfE's count)"),
    _m("re_referrals", "flow", "referrals",
       "re-referrals: referrals within 12 months of the child's previous referral (DfE's definition)"),
    _m("re_referral_pct", "derived", "%", "re-referrals as a share of all referrals (DfE's rate)"),
    _m("returns_after_closure", "flow", "referrals",
       "referrals of children coming back after their case closed, however long ago (the model's return flow)"),
    _m("early_help_step_ups", "flow", "referrals", "referrals stepped up from early help"),
    _m("front_door_backlog", "stock", "contacts", "contacts awaiting a decision at the front door"),
    _m("contacts_decided_in_timescale_pct", "derived", "%", "contacts decided within the decision timescale"),
    _m("assessments_open", "stock", "assessments", "child and family assessments open"),
    _m("assessments_overdue", "stock", "assessments", "open assessments past the assessment timescale"),
    _m("assessments_completed", "flow", "assessments", "assessments completed"),
    _m("assessments_in_timescale_pct", "derived", "%", "assessments completed within the assessment timescale"),
    _m("assessment_days_mean", "derived", "working days",
       "mean working days from referral to completed assessment (whole working days, as DfE counts them)"),
    _m("assessments_days_0", "flow", "assessments", "assessments completed on the day of referral (DfE table C2)"),
    _m("assessments_days_1_10", "flow", "assessments",
       "assessments completed in 1 to 10 working days from referral (DfE table C2)"),
    _m("assessments_days_11_20", "flow", "assessments",
       "assessments completed in 11 to 20 working days from referral (DfE table C2)"),
    _m("assessments_days_21_30", "flow", "assessments",
       "assessments completed in 21 to 30 working days from referral (DfE table C2)"),
    _m("assessments_days_31_40", "flow", "assessments",
       "assessments completed in 31 to 40 working days from referral (DfE table C2)"),
    _m("assessments_days_41_45", "flow", "assessments",
       "assessments completed in 41 to 45 working days from referral (DfE table C2)"),
    _m("assessments_days_46_50", "flow", "assessments",
       "assessments completed in 46 to 50 working days from referral (DfE table C2)"),
    _m("assessments_days_51_60", "flow", "assessments",
       "assessments completed in 51 to 60 working days from referral (DfE table C2)"),
    _m("assessments_days_61_plus", "flow", "assessments",
       "assessments completed in 61 or more working days from referral (DfE table C2)"),
    _m("s47_enquiries", "flow", "enquiries", "section 47 enquiries started"),
    _m("icpcs", "flow", "conferences", "initial child protection conferences held"),
    _m("icpcs_in_timescale_pct", "derived", "%", "initial conferences within the ICPC timescale"),
    _m("unallocated_cases", "stock", "cases", "cases waiting for a social worker (unallocated)"),
    _m("cp_unallocated", "stock", "cases",
       "child protection cases waiting unallocated (section 47 enquiries and child protection plans)"),
    _m("unallocated_wait_days_mean", "stock", "working days", "mean working days waiting cases have waited so far"),
    _m("cin_open", "stock", "cases", "children in need plans open"),
    _m("cp_open", "stock", "cases", "child protection plans open"),
    _m("cla_open", "stock", "cases", "children in care (looked after)"),
    _m("early_help_open", "derived", "families", "families in early help"),
    _m("cases_closed", "flow", "cases", "cases closed (including step-down to early help)"),
    _m("cp_plans_started", "flow", "plans", "child protection plans started"),
    _m("cp_plans_repeat_pct", "derived", "%",
       "child protection plans started that are a second or subsequent plan for the child (within the run)"),
    _m("cp_plans_ended", "flow", "plans", "child protection plans ended"),
    _m("cp_plans_ended_3m_or_less", "flow", "plans",
       "child protection plans ending that lasted 3 months or less (DfE table D7)"),
    _m("cp_plans_ended_3_6m", "flow", "plans",
       "child protection plans ending that lasted over 3 months to 6 months (DfE table D7)"),
    _m("cp_plans_ended_6_12m", "flow", "plans",
       "child protection plans ending that lasted over 6 months to 1 year (DfE table D7)"),
    _m("cp_plans_ended_1_2y", "flow", "plans",
       "child protection plans ending that lasted over 1 year to 2 years (DfE table D7)"),
    _m("cp_plans_ended_2y_plus", "flow", "plans",
       "child protection plans ending that lasted 2 years or more (DfE table D7)"),
    _m("cp_plans_ended_2y_pct", "derived", "%",
       "child protection plans ending that lasted 2 years or more (DfE table D7)"),
    _m("cla_started", "flow", "children", "children starting to be looked after (a care episode starting)"),
    *_CARE,
    _m("cp_plans_per_icpc", "derived", "plans per conference",
       "child protection plans started per initial conference held (summaries add the ratio of the period's totals)",
       ratio_of=("cp_plans_started", "icpcs")),
    # rates per 10,000 children (population.children), as DfE publishes them: a flow's total over a year is the
    # year's rate; a stock's value in the last week of a year is the rate at its end (31 March in a run from 1 April)
    _rate("referrals", "flow", "referrals per 10,000 children"),
    _rate("s47_enquiries", "flow", "section 47 enquiries started per 10,000 children"),
    _rate("icpcs", "flow", "initial child protection conferences per 10,000 children"),
    _rate("cp_plans_started", "flow", "child protection plans started per 10,000 children"),
    _rate("cla_started", "flow", "children starting to be looked after per 10,000 children"),
    _rate("children_in_need", "stock",
          "children in need per 10,000 children: open assessments, child in need and child protection plans and "
          "children in care (DfE's children in need count)"),
    _rate("cp_open", "stock", "children on child protection plans per 10,000 children"),
    _rate("cla_open", "stock", "children in care (looked after) per 10,000 children"),
    _m("caseload_mean", "stock", "cases per FTE",
       "caseload per case-holding FTE, allocated cases only (DfE's measure)"),
    _m("caseload_incl_unallocated", "stock", "cases per FTE",
       "caseload per case-holding FTE counting unallocated cases (the manageable measure; NaN when no staff hold "
       "open cases)"),
    _m("caseload_worst_team", "stock", "cases per FTE",
       "caseload of the most loaded case-holding team, counting the cases waiting for it (the largest "
       "caseload_incl_unallocated_TEAM; NaN when a team has open cases and no staff to hold them)"),
    _m("caseload_p90", "stock", "cases per FTE", "caseload of the 90th-percentile case-holding worker"),
    _m("caseload_max", "stock", "cases per FTE", "caseload of the most loaded case-holding worker"),
    _m("workers_over_threshold_pct", "stock", "%", "case-holding workers over the manageable caseload"),
    _m("staff_fte", "stock", "FTE", "staff in post (all grades, permanent and agency)"),
    _m("staff_fte_agency", "stock", "FTE", "agency staff in post"),
    _m("staff_fte_asye", "stock", "FTE", "newly qualified (ASYE) staff in post"),
    _m("staff_fte_absent", "stock", "FTE", "staff in post who are off sick"),
    _m("staff_fte_managers", "stock", "FTE", "team managers in post"),
    _m("case_holding_fte", "stock", "FTE", "case-holding staff in post"),
    _m("staff_fte_agency_project", "stock", "FTE", "agency staff bought above the establishment (project workers)"),
    _m("vacancies_fte", "stock", "posts", "funded posts with no permanent worker (vacancies)"),
    _m("vacancy_rate_pct", "derived", "%",
       "vacancies as a share of vacancies plus permanent staff FTE in post (DfE's vacancy rate)"),
    _m("agency_rate_pct", "derived", "%",
       "agency staff FTE as a share of agency plus permanent staff FTE in post (DfE's agency worker rate)"),
    _m("supervision_load_pct", "stock", "%", "social workers per team manager, as a share of the manager span"),
    _m("leavers_incl_agency", "flow", "workers",
       "workers leaving, head count: permanent leavers, agency workers moving on and agency workers released"),
    _m("leavers_permanent", "flow", "workers", "permanent workers leaving (head count)"),
    _m("leavers_permanent_fte", "flow", "FTE", "permanent staff FTE leaving"),
    _m("turnover_rate_pct", "derived", "% a year",
       "permanent FTE leaving, at a yearly rate, as a share of permanent FTE in post (DfE's turnover rate)"),
    _m("leavers_returning_as_agency", "flow", "workers",
       "permanent leavers who come back as agency workers (under the national rules, after the cooling-off period)"),
    _m("agency_requests", "flow", "requests",
       "requests for an agency worker the council places on the market (each vacancy or post above the "
       "establishment counted once, when asked for)"),
    _m("agency_requests_waiting", "stock", "requests",
       "requests for an agency worker the market has not met yet, each leaving a post vacant (0 when supply is "
       "not limited)"),
    _m("agency_premium_per_year", "stock", "£ per FTE a year",
       "agency premium in force over a permanent FTE, a year, in the prices of the start date (moves with the "
       "council's demand on the market; under the national rules, no higher than the price cap)"),
    _m("starters", "flow", "workers", "workers starting (permanent, newly qualified and agency)"),
    _m("social_worker_changes", "flow", "changes", "changes of social worker for a child"),
    # the cost items, each declared once with its line of the budget; the total last
    _m("cost_permanent", "cost", "£", "cost of permanent staff in the week",
       item="Social work (safeguarding): permanent staff"),
    _m("cost_agency", "cost", "£", "cost of agency staff in the week",
       item="Social work (safeguarding): agency staff"),
    _m("cost_recruitment", "cost", "£", "cost of recruitment in the week",
       item="Social work (safeguarding): recruitment"),
    _m("cost_interventions", "cost", "£", "cost of interventions (levers) in the week", item="Investments (levers)"),
    _m("cost_placements", "cost", "£", "cost of children in care's placements in the week",
       item="Children looked after: placements"),
    _m("cost_legal", "cost", "£", "legal cost of care proceedings issued in the week",
       item="Children looked after: care proceedings (legal)"),
    _m("cost_leaving_care", "cost", "£", "cost of supporting care leavers in the week", item="Leaving care"),
    _m("cost_total", "cost", "£", "cost of the service in the week", item="Total"),
]

_BY_TEAM = [  # published, one column per case-holding team, after the service-wide caseloads
    _m("caseload_incl_unallocated_{team}", "stock", "cases per FTE",
       "caseload of one team per case-holding FTE, counting the cases waiting for it (the manageable measure, team "
       "by team; NaN when the team has open cases and no staff to hold them)"),
    _m("caseload_{team}", "stock", "cases per FTE",
       "caseload of one team per case-holding FTE, allocated cases only (DfE's measure, team by team)"),
]

_INTERNAL = [
    # front door and early help
    _m("contacts_{source}", "flow", "contacts", "contacts from one source", False),
    _m("_screening_started", "flow", "contacts", "contacts whose screening started", False),
    _m("_screening_wait_days", "flow", "working days", "days contacts waited for a screener (summed)", False),
    _m("_contacts_decided", "flow", "contacts", "contacts decided", False),
    _m("_contacts_decided_in_timescale", "flow", "contacts", "contacts decided within the timescale", False),
    _m("_contacts_referred", "flow", "contacts", "contacts decided as referrals", False),
    _m("_contacts_to_early_help", "flow", "contacts", "contacts sent to early help", False),
    _m("_early_help_started", "flow", "families", "families starting early help", False),
    _m("_early_help_ended", "flow", "families", "families ending early help", False),
    # assessments
    _m("_assessments_in_timescale", "flow", "assessments", "assessments completed within the timescale", False),
    _m("_assessment_days_total", "flow", "working days",
       "referral-to-completion time of completed assessments on the model's clock (summed; Little's law)", False),
    _m("_icpcs_in_timescale", "flow", "conferences", "initial conferences within the timescale", False),
    _m("_cp_plans_repeat", "flow", "plans", "child protection plans started for a child who had one before", False),
    _m("_assessment_workdays_total", "flow", "working days",
       "whole working days from referral to completion of completed assessments (summed)", False),
    _m("_assessment_area", "stock", "assessment-days",
       "area under the open-assessments count since the start (Little's law)", False),
    _m("_assessment_in_run_days", "stock", "assessment-days",
       "days assessments have been open within the run (Little's law)", False),
    _m("_cases_created", "stock", "cases", "cases created since the start (start state included)", False),
    _m("_cases_closed_total", "stock", "cases", "cases closed since the start", False),
    _m("_cases_held", "stock", "cases", "cases held by workers in post", False),
    # workforce and posts
    _m("_workers_in_post", "stock", "workers", "workers in post (head count)", False),
    _m("_workers_initial", "stock", "workers", "workers in post at the start (head count)", False),
    _m("_workers_started", "stock", "workers", "workers started since the start", False),
    _m("_workers_left", "stock", "workers", "workers left since the start", False),
    _m("_fte_permanent_{grade}", "stock", "FTE", "permanent staff in post of one grade", False),
    _m("_fte_agency_{grade}", "stock", "FTE", "agency staff in post of one grade", False),
    _m("_posts_open", "stock", "posts", "funded posts not closed", False),
    _m("_recruitment_rounds", "flow", "rounds", "recruitment rounds opened", False),
    _m("_hires_permanent", "flow", "workers", "permanent hires from recruitment rounds", False),
    _m("_asye_starters", "flow", "workers", "newly qualified (ASYE) starters", False),
    _m("_retention_fte_{lever}", "stock", "FTE", "staff eligible for a retention payment", False, "retention"),
    _m("_academy_starters_{lever}", "flow", "workers",
       "extra starters from a newly qualified academy", False, "nqsw_academy"),
    _m("_foster_places_recruited_{lever}", "flow", "places",
       "in-house foster places approved through a foster carers lever", False, "foster_carers"),
    _m("_stepped_down_{lever}", "flow", "children",
       "children moved from children's homes through a residential step-down lever", False, "residential_step_down"),
    *(_m(f"orders_{o}", "flow", "children", f"care proceedings ending in {w}", False) for o, w in (
        ("care_order", "a care order"), ("sgo", "a special guardianship order"),
        ("home", "a supervision order or no order"))),
    # the run itself
    _m("_clock", "stock", "working days", "simulation clock at the end of the week", False),
    _m("_events", "stock", "events", "SimPy events the replication processed", False),
]

MEASURES: dict[str, Measure] = {m.name: m for m in _PUBLISHED + _BY_TEAM + _INTERNAL}
WEEKLY_COLUMNS: list[str] = [m.name for m in _PUBLISHED]  # the columns every scenario has; then one per team
_TEAM_COLUMNS_AFTER = "caseload_worst_team"


def team_columns(teams) -> list[str]:
    """The weekly.csv columns of case-holding ``teams``: each team's caseload counting waiting cases, then each
    team's caseload of allocated cases."""
    return [m.name.format(team=t) for m in _BY_TEAM for t in teams]


def weekly_columns(teams) -> list[str]:
    """The weekly.csv columns (after the identifying ones) of a scenario whose case-holding teams are ``teams``."""
    at = WEEKLY_COLUMNS.index(_TEAM_COLUMNS_AFTER) + 1
    return WEEKLY_COLUMNS[:at] + team_columns(teams) + WEEKLY_COLUMNS[at:]
COST_COLUMNS: list[str] = [m.name for m in _PUBLISHED if m.kind == "cost"]  # the items, then the total
COST_ITEMS: dict[str, str] = {m.name: m.item for m in _PUBLISHED if m.kind == "cost"}  # column -> budget line
ID_COLUMNS: list[str] = ["scenario", "replication", "week", "date"]


def declared_names(sources, levers, teams=()) -> set[str]:
    """Every concrete measure name for a scenario with these contact ``sources``, ``levers`` and case-holding
    ``teams``."""
    names: set[str] = set(team_columns(teams))
    for m in MEASURES.values():
        if "{team}" in m.name:
            continue
        if "{grade}" in m.name:
            names.update(m.name.format(grade=g) for g in GRADES)
        elif "{source}" in m.name:
            names.update(m.name.format(source=s) for s in sources)
        elif "{lever}" in m.name:
            names.update(m.name.format(lever=i) for i, lv in enumerate(levers) if lv.type == m.lever_type)
        else:
            names.add(m.name)
    return names


def describe(name: str) -> Measure:
    """The declaration of ``name`` (a family's declaration for a member such as ``_fte_agency_asye``)."""
    if name in MEASURES:
        return MEASURES[name]
    for m in sorted(MEASURES.values(), key=lambda m: -len(m.name.partition("{")[0])):  # the longest head first
        head, brace, tail = m.name.partition("{")
        if brace and name.startswith(head) and len(name) > len(head) and tail.endswith("}"):
            return m
    raise KeyError(f"{name!r} is not a declared measure (see workforce_sim.model.measures)")
