"""Funded posts, vacancies, recruitment, agency cover and newly qualified cohorts.

Every funded post may hold one permanent worker and, while it has none, one
agency worker covering it. When a permanent worker leaves, the post is vacant:
a recruitment round opens (it takes a while and may fail, then another opens)
and, within the agency cap and the council's cover policy, an agency worker
is sought. A permanent hire releases the agency worker covering the post.
Each year a cohort of newly qualified (ASYE) social workers fills vacant
social worker posts in case-holding teams.

The agency market: a vacancy the council wants covered but cannot (the cap is
full) is offered again each week while there is room under the cap, so a
temporary cap stops acting when it ends. Under sustained pressure a team buys
agency workers above its establishment (project posts, within the cap and the
scenario's share), released again when pressure falls; and a share of
permanent leavers under sustained pressure come back as agency workers to
cover their own post.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..scenario.calendar import WORKING_DAYS_PER_WEEK as WD
from ..scenario.schema import GRADES
from .agency_market import RULES_AGENCY_NOTICE_WEEKS, AgencyMarket
from .clock import Due, call_after
from .context import Context
from .draws import BufferedSampler, UniformBuffer
from .levers import LEVERS, post_grade
from .workforce import ASYE, SW, Workforce


class Post:
    """A funded post: its permanent holder and agency cover (worker indices, -1 for none)."""

    __slots__ = ("id", "team", "grade", "perm", "agency", "round", "agency_sought", "covered", "until", "closed",
                 "project")

    def __init__(self, pid: int, team: int, grade: int, until: float = float("inf"), project: bool = False):
        self.id, self.team, self.grade = pid, team, grade
        self.perm = self.agency = -1
        self.round = 0  # increases to cancel a recruitment round in flight
        self.agency_sought = False
        self.covered = False  # whether the council covers this vacancy with agency staff
        self.until = until  # funding ends (clock time): once vacant after this, the post closes
        self.closed = False
        self.project = project  # agency above the establishment: never recruited to, closed when released


class Staffing:
    """Funded posts and how they are filled: recruitment rounds, agency cover, newly qualified cohorts, leaving.

    It tells the rest of the model that a worker started, resigned or left through the hooks ``worker_started``,
    ``worker_resigned`` and ``worker_left``.
    """

    def __init__(self, ctx: Context, team_names: list[str], workforce: Workforce):
        scn, streams = ctx.scn, ctx.streams
        self.scn, self.env, self.monitor, self.wf = scn, ctx.env, ctx.monitor, workforce
        self.hooks = ctx.hooks
        self.levers = ctx.levers
        self.team_names = team_names
        r, a = scn.workforce.recruitment, scn.workforce.agency
        # one stream per team and quantity: a change in one team's staffing never shifts another's draws
        self.hire_days = [BufferedSampler(r.time_to_hire_weeks, streams(f"recruitment.time_to_hire.{t}"), WD)
                          for t in team_names]
        self.hire_fail = [UniformBuffer(streams(f"recruitment.outcome.{t}")) for t in team_names]
        self.agency_days = [BufferedSampler(a.time_to_start_weeks, streams(f"agency.time_to_start.{t}"), WD)
                            for t in team_names]
        self.agency_cover = [UniformBuffer(streams(f"agency.cover.{t}")) for t in team_names]
        self.agency_return = [UniformBuffer(streams(f"agency.return.{t}")) for t in team_names]
        self.market = a
        self.case_holding = np.array([name in scn.case_holding_teams() for name in team_names])
        self.team_posts = np.array([sum(scn.teams[name].posts.values()) for name in team_names], dtype=float)
        self.team_pressure = np.ones(len(team_names))  # smoothed held-and-waiting work over capacity, per team
        self.alpha = 1.0 / scn.workforce.turnover.pressure_smoothing_weeks
        self.uncovered: dict[int, Post] = {}  # posts the council wants covered, waiting for room under the cap
        self.notice_perm = scn.workforce.turnover.notice_weeks_permanent * WD
        self.notice_agency = scn.workforce.turnover.notice_weeks_agency * WD
        # the national rules of 2024: agency notice of four weeks (or the council's own, if shorter), a cooling-off
        # period before a permanent leaver returns as agency, and a limit on agency above the establishment
        rules = a.national_rules_2024
        if rules:
            self.notice_agency = min(RULES_AGENCY_NOTICE_WEEKS, scn.workforce.turnover.notice_weeks_permanent) * WD
        self.cooling_off = a.cooling_off_weeks * WD if rules else 0.0
        self.project_share = (min(a.project_share_of_posts, a.project_share_of_posts_under_rules) if rules
                              else a.project_share_of_posts)
        self.posts: list[Post] = []
        for ti, name in enumerate(team_names):
            for grade, count in scn.teams[name].posts.items():
                for _ in range(count):
                    self.posts.append(Post(len(self.posts), ti, GRADES.index(grade)))
        self.n_open = len(self.posts)  # funded posts not closed (kept as a count: read on every agency decision)
        self.offers = AgencyMarket(scn, len(self.posts))
        self._project_posts: list[Post] = []
        self.agency_pending = 0
        self.started = 0
        self.left = 0

    # -- start state -----------------------------------------------------------------
    def start_state(self) -> None:
        """Put the staff in post at time 0 into posts; open recruitment for the rest."""
        team_index = {n: i for i, n in enumerate(self.team_names)}
        groups = sorted(self.scn.staff, key=lambda g: g.contract != "permanent")  # permanent staff take posts first
        posts_of: dict[tuple[int, int], list[Post]] = {}
        for p in self.posts:
            posts_of.setdefault((p.team, p.grade), []).append(p)
        # Each worker takes the first post of their team and grade that is still free to them. Posts
        # only fill here, so the search for the next one starts where the last one ended.
        looked: dict[tuple[int, int, bool], int] = {}
        for g in groups:
            grade = GRADES.index(g.grade)
            post_grade = SW if grade == ASYE else grade
            perm = g.contract == "permanent"
            mine = posts_of.get((team_index[g.team], post_grade), [])
            cursor = (team_index[g.team], post_grade, perm)
            for _ in range(g.count):
                i = looked.get(cursor, 0)
                while mine[i].perm >= 0 or (not perm and mine[i].agency >= 0):
                    i += 1
                looked[cursor] = i
                post = mine[i]
                w = self.wf.add(post.team, grade, g.contract == "agency", g.fte, -g.weeks_in_post * WD, post.id)
                if g.contract == "permanent":
                    post.perm = w
                else:
                    post.agency = w
                if self.hooks.worker_started:
                    self.hooks.worker_started(w, 0.0)
        # Some of the staff in post resigned shortly before the start and are working their notice.
        for w in range(self.wf.n):
            rest = self.wf.resigned_before_start(w, self.notice_agency if self.wf.agency[w] else self.notice_perm)
            if rest is not None:
                self._leave_after(w, 0.0, rest)
        # The council covers cover_share of its vacancies. A vacancy an agency worker holds at the start
        # is covered; of the empty ones, just enough are covered to bring the share up to cover_share.
        vacant = [p for p in self.posts if p.perm < 0]
        held = sum(1 for p in vacant if p.agency >= 0)
        empty = len(vacant) - held
        wanted = self.market.cover_share * len(vacant) - held
        share_of_empty = min(1.0, max(0.0, wanted / empty)) if empty else 0.0
        for p in vacant:
            self._vacant(p, 0.0, cover_share=1.0 if p.agency >= 0 else share_of_empty)

    def schedule_levers(self) -> None:
        """Posts funded by levers open on their start date and close (once vacant) after their end."""
        for i, lv, a, b in self.levers.items:
            grade = post_grade(lv)
            if grade is not None:  # a lever that funds posts names their team and number
                team = self.team_names.index(getattr(lv, "team"))
                call_after(self.env, a - self.env.now, self._posts_funded,
                           (team, GRADES.index(grade), getattr(lv, "posts"), b))
            if b < float("inf") and LEVERS[lv.type].creates_posts:
                call_after(self.env, b - self.env.now, lambda e: self._funding_ends(e.value, self.env.now), b)

    def _posts_funded(self, ev: Due) -> None:
        team, grade, n, until = ev.value
        self.add_posts(team, grade, n, until, self.env.now)

    def add_posts(self, team: int, grade: int, n: int, until: float, t: float) -> list[Post]:
        """Open ``n`` funded posts of ``grade`` in ``team`` at ``t`` (vacant: recruited to and covered like any
        post)."""
        new = [Post(len(self.posts) + k, team, grade, until) for k in range(n)]
        self.posts.extend(new)
        self.n_open += n
        for p in new:
            self._vacant(p, t)
        return new

    def _funding_ends(self, until: float, t: float) -> None:
        for p in self.posts:
            if p.until == until and p.perm < 0 and not p.closed:
                self._close(p, t)

    def _close(self, post: Post, t: float) -> None:
        post.closed = True
        if not post.project:
            self.n_open -= 1
        self.uncovered.pop(post.id, None)
        self.offers.withdraw(post.id)
        post.round += 1  # cancels a round in flight
        post.covered = False
        if post.agency >= 0:
            self.depart(post.agency, t, released=True)

    def open_posts(self) -> int:
        """Funded posts not closed (the base of the agency cap)."""
        return self.n_open

    def schedule_cohorts(self, calendar) -> None:
        """Schedule each year's newly qualified cohort on the first day of the cohort month."""
        r = self.scn.workforce.recruitment
        if r.nqsw_cohort_size <= 0 and not self.levers.of_type("nqsw_academy"):
            return
        start = calendar.start
        year = start.year
        while True:
            day = dt.date(year, r.nqsw_cohort_month, 1)
            if day >= calendar.end:
                break
            if day >= start:
                t = float(calendar.working_days_between(start, day))
                call_after(self.env, t - self.env.now, lambda e: self._cohort(self.env.now))
            year += 1

    # -- vacancies -------------------------------------------------------------------
    def _vacant(self, post: Post, t: float, returner: bool = False, cover_share: float | None = None) -> None:
        """A post has no permanent worker: recruit, and decide once whether to cover it (with the
        scenario's cover share unless told otherwise; always, when its leaver comes back as an agency worker)."""
        if t >= post.until:
            self._close(post, t)
            return
        self._open_round(post)
        share = self.market.cover_share if cover_share is None else cover_share
        post.covered = self.agency_cover[post.team].draw() < share or returner
        if returner:
            self._return_as_agency(post)
        else:
            self._seek_agency(post)

    def _open_round(self, post: Post) -> None:
        post.round += 1
        t = self.env.now
        self.monitor.count("_recruitment_rounds", t)
        call_after(self.env, self.hire_days[post.team].draw() * self.levers.hire_time_factor(t), self._round_done,
                   (post, post.round))

    def _round_done(self, ev: Due) -> None:
        post, rnd = ev.value
        if rnd != post.round or post.perm >= 0 or post.closed:
            return
        t = self.env.now
        fail = self.scn.workforce.recruitment.round_failure_share * self.levers.failure_factor(t)
        if self.hire_fail[post.team].draw() < fail:
            self._open_round(post)
            return
        self.monitor.count("_hires_permanent", t)
        self._fill(post, post.grade, t)

    def _fill(self, post: Post, grade: int, t: float) -> None:
        post.round += 1
        self.offers.withdraw(post.id)
        w = self.wf.add(post.team, grade, False, 1.0, t, post.id)
        post.perm = w
        self.started += 1
        self.monitor.count("starters", t)
        if post.agency >= 0:
            self.depart(post.agency, t, released=True)
        if self.hooks.worker_started:
            self.hooks.worker_started(w, t)

    def _agency_fte(self) -> float:
        return self.wf.fte_where(self.wf.agency)

    def _cap_full(self) -> bool:
        """No room under the council's agency cap for one more (in post, on the way or asked for)."""
        asked = self._agency_fte() + self.agency_pending + self.offers.n_waiting
        return asked + 1.0 > self._agency_cap(self.env.now) + 1e-9

    @staticmethod
    def _wants_agency(post: Post) -> bool:
        return post.agency < 0 and not post.agency_sought and post.perm < 0 and post.covered and not post.closed

    def _seek_agency(self, post: Post) -> bool:
        """Ask the market for an agency worker for ``post`` if the council covers it and the cap has room (the
        request waits if the market has no offer in hand); False if the cap is full."""
        if not self._wants_agency(post):
            self.uncovered.pop(post.id, None)
            self.offers.withdraw(post.id)
            return True
        if self.offers.is_waiting(post.id):
            return True
        if self._cap_full():
            self.uncovered[post.id] = post
            return False
        self.uncovered.pop(post.id, None)
        self.monitor.count("agency_requests", self.env.now)
        if self.offers.ask(post):
            self._send_for(post)
        return True

    def _send_for(self, post: Post, delay: float = 0.0) -> None:
        """An agency worker is found for ``post``: they start after the time to start (and ``delay``)."""
        post.agency_sought = True
        self.agency_pending += 1
        call_after(self.env, self.agency_days[post.team].draw() + delay, self._agency_arrives, post)

    def _return_as_agency(self, post: Post) -> None:
        """A permanent leaver comes back as an agency worker on their own post, outside the market's offers (after
        the cooling-off period under the national rules); within the cap, or the post waits for room like any."""
        if not self._wants_agency(post):
            return
        if self._cap_full():
            self.uncovered[post.id] = post
            return
        self._send_for(post, self.cooling_off)

    def offer_cover(self) -> None:
        """The week's agency offers meet waiting requests (oldest first); then vacancies the council wants covered,
        turned away while the cap was full, are offered again (oldest post first)."""
        self.offers.new_week()
        for post in self.offers.meet_waiting(self._wants_agency):
            self._send_for(post)
        for pid in sorted(self.uncovered):
            if not self._seek_agency(self.uncovered[pid]):
                break

    def buy_or_release_project(self, pressure: np.ndarray, t: float) -> None:
        """Sustained pressure in a case-holding team buys agency above its establishment; relief releases it."""
        self.team_pressure += self.alpha * (pressure - self.team_pressure)
        m = self.market
        if self.project_share <= 0:
            return
        self._project_posts = [p for p in self._project_posts if not p.closed]
        wf = self.wf
        for ti in np.flatnonzero(self.case_holding).tolist():
            mine = [p for p in self._project_posts if p.team == ti and not p.closed]
            room = bool(len(mine) < self.project_share * self.team_posts[ti])
            if self.team_pressure[ti] > m.project_pressure and room:
                post = Post(len(self.posts), int(ti), SW, project=True)
                self.posts.append(post)
                self._project_posts.append(post)
                post.covered = True
                if not self._seek_agency(post):
                    self._close(post, t)  # no room under the cap: the project post is not opened
            elif self.team_pressure[ti] < m.project_release_pressure and mine:
                held = [p for p in mine if p.agency >= 0 and wf.active[p.agency] and not wf.notice[p.agency]]
                if held:
                    post = min(held, key=lambda p: (wf.cases[p.agency], p.id))  # fewest cases first
                    self.depart(post.agency, t, released=True)
                else:
                    self._close(mine[0], t)  # not yet arrived: cancel

    def _agency_cap(self, t: float) -> float:
        return self.levers.agency_cap_share(self.scn.workforce.agency.max_share_of_posts, t) * self.open_posts()

    def reduce_agency(self, t: float) -> None:
        """Planned reduction: release agency staff above a lowered cap, evenly over the lever's weeks."""
        for i, lv, a, b in self.levers.of_type("agency_cap"):
            if not a <= t < b:
                continue
            excess = self._agency_fte() - self._agency_cap(t)
            if excess <= 1e-9:
                continue
            weeks_left = max(1.0, lv.release_over_weeks - (t - a) / WD)
            n = int(np.ceil(excess / weeks_left - 1e-9))
            n_cases = self.wf.n_cases
            for w in sorted(self.wf.agency_staying(), key=lambda i: n_cases[i])[:n]:  # fewest cases first (stable)
                self.depart(w, t, released=True)  # the post stays wanted: offered again when the cap allows

    def _agency_arrives(self, ev: Due) -> None:
        post = ev.value
        post.agency_sought = False
        self.agency_pending -= 1
        if post.perm >= 0 or post.agency >= 0 or post.closed or not post.covered:
            if post.project and not post.closed:
                self._close(post, self.env.now)
            return
        t = self.env.now
        w = self.wf.add(post.team, post.grade, True, 1.0, t, post.id)
        post.agency = w
        self.started += 1
        self.monitor.count("starters", t)
        if self.hooks.worker_started:
            self.hooks.worker_started(w, t)

    def _cohort(self, t: float) -> None:
        """Newly qualified social workers join vacant posts; an academy's extra starters get new posts if needed."""
        holds = [self.team_names.index(name) for name in self.scn.case_holding_teams()]
        vacant = [p for p in self.posts if p.grade == SW and p.team in holds and p.perm < 0 and not p.closed
                  and not p.project]
        vacant.reverse()
        n = self.scn.workforce.recruitment.nqsw_cohort_size
        while n > 0 and vacant:
            self._start_asye(vacant.pop(), t)
            n -= 1
        for i, lv, a, b in self.levers.of_type("nqsw_academy"):
            if not a <= t < b:
                continue
            for _ in range(lv.extra_cohort):
                if vacant:
                    post = vacant.pop()
                else:
                    team = self.team_names.index(lv.team or self.scn.largest_case_holding_team())
                    post = Post(len(self.posts), team, SW, b)
                    self.posts.append(post)
                    self.n_open += 1
                self._start_asye(post, t)
                self.monitor.count(f"_academy_starters_{i}", t)

    def _start_asye(self, post: Post, t: float) -> None:
        self.monitor.count("_asye_starters", t)
        self._fill(post, ASYE, t)

    # -- leaving ---------------------------------------------------------------------
    def resign(self, w: int, t: float, since: float | None = None) -> None:
        """Worker ``w`` resigns at ``t``: they keep their cases, take no new ones, and leave after their notice, which
        runs from ``since`` (when their leaving hazard passed their threshold, within the week just ended; ``t`` if
        not given)."""
        notice = self.notice_agency if self.wf.agency[w] else self.notice_perm
        self._leave_after(w, t, max(0.0, notice - (t - since)) if since is not None else notice)

    def _leave_after(self, w: int, t: float, notice: float) -> None:
        wf = self.wf
        wf.give_notice(w)
        if self.hooks.worker_resigned:
            self.hooks.worker_resigned(w, t)
        call_after(self.env, notice, lambda e: self.depart(e.value, self.env.now), w)

    def depart(self, w: int, t: float, released: bool = False) -> None:
        """Worker ``w`` leaves at ``t`` (``released``: an agency worker let go by the council); their post falls
        vacant."""
        wf = self.wf
        if not wf.active[w]:
            return
        post = self.posts[wf.post[w]]
        wf.remove(w)
        self.left += 1
        self.monitor.count("leavers_incl_agency", t)
        returner = False
        if not wf.agency[w]:
            self.monitor.count("leavers_permanent", t)
            self.monitor.count("leavers_permanent_fte", t, wf.fte[w])
            u = self.agency_return[post.team].draw()  # drawn for every permanent leaver: common random numbers
            returner = bool(wf.pressure[w] > self.market.return_pressure and u < self.market.leavers_return_share
                            and not post.closed and t < post.until)
            if returner:
                self.monitor.count("leavers_returning_as_agency", t)
        if self.hooks.worker_left:
            self.hooks.worker_left(w, t, released, returner)
        if post.perm == w:
            post.perm = -1
            self._vacant(post, t, returner)
        elif post.agency == w:
            post.agency = -1
            if post.project:
                self._close(post, t)
            elif not released:
                self._seek_agency(post)
            elif post.covered and post.perm < 0 and not post.closed:
                self.uncovered[post.id] = post  # released under a cap: still wanted, offered again when it allows

    # -- measurement -----------------------------------------------------------------
    def snapshot(self, week: int) -> None:
        """Read the stocks of posts: vacancies, open posts, agency above the establishment."""
        m = self.monitor
        # lists, not generators: the same count and sum (in the same order), without resuming a generator per post
        m.set("vacancies_fte", week, len([p for p in self.posts if p.perm < 0 and not p.closed and not p.project]))
        wf = self.wf
        m.set("staff_fte_agency_project", week,
              sum([wf.fte[p.agency] for p in self._project_posts if p.agency >= 0 and wf.active[p.agency]]))
        m.set("_posts_open", week, self.open_posts())
        m.set("agency_requests_waiting", week, self.offers.n_waiting)
        m.set("agency_premium_per_year", week, self.offers.premium)
        m.set("_workers_started", week, self.started)
        m.set("_workers_left", week, self.left)
