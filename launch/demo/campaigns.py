"""Demo campaigns: the community digital-technology teams (the article's figures) and both follow-up
campaigns with plausible reports (most on time, some late, a few missing, one corrected)."""
from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from launch.clock import to_local, utcnow
from launch.extensions import db
from launch.models import Event, Unit, User
from launch.models.campaigns import Campaign, ProgressReport
from launch.models.units import LEGACY_EDITION
from launch.services.campaigns import local_midnight, periods, save_campaign, targets, template_defaults, write_report
from launch.services.teams import import_teams


def _spread(total: int, parts: int) -> list[int]:
    """`parts` whole numbers as even as possible summing to `total`."""
    if parts <= 0:
        return []
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


#: district code -> (district team members or None, village teams, total members): the article's figures
#: for Bình Sơn, Mộ Đức, Đức Phổ and Trà Bồng, plausible ones elsewhere.
DEMO_TEAMS = {
    "524": (10, 120, 650),   # Bình Sơn: 1 district + 22 commune + 120 village teams, nearly 650 members
    "533": (None, 68, 498),  # Mộ Đức: 13/13 communes, 68/68 villages, 498 members
    "534": (9, 83, 615),     # Đức Phổ: 99 teams (1 + 15 + 83), 615 members
    "525": (8, 79, 470),     # Trà Bồng: 96 teams at all levels (1 + 16 + 79)
    "522": (9, 92, 560),
    "527": (7, 55, 330),
    "528": (8, 70, 420),
    "529": (7, 64, 380),
    "530": (6, 36, 210),
    "531": (5, 20, 130),
    "532": (7, 58, 350),
    "535": (7, 76, 440),
    "536": (7, 0, 45),
}


def demo_teams_csv() -> str:
    """The demo teams as an importable CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["unit_code", "level", "name", "members"])
    districts = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.level == "district"))}
    for code, (district_members, villages, total) in DEMO_TEAMS.items():
        district = districts.get(code)
        if district is None:
            continue
        communes = list(district.children)
        remaining = total
        if district_members or not communes:
            members = district_members if communes else total
            writer.writerow([district.code, "district", f"Tổ CNSCĐ {district.name}", members])
            remaining -= members
        if not communes:
            continue
        teams_below = len(communes) + villages
        sizes = _spread(remaining, teams_below)
        village_counts = _spread(villages, len(communes))
        i = 0
        for commune, n_villages in zip(communes, village_counts, strict=True):
            writer.writerow([commune.code, "commune", f"Tổ CNSCĐ {commune.name}", sizes[i]])
            i += 1
            for v in range(1, n_villages + 1):
                writer.writerow([commune.code, "village", f"Tổ CNSCĐ thôn {v}", sizes[i]])
                i += 1
    return out.getvalue()


def _demo_reports(campaign: Campaign, operator: User, now: datetime, seed: int) -> None:
    """Plausible reports for every started period: most on time, some late, a few missing, one corrected."""
    rng = random.Random(seed)
    target_map = targets(campaign)
    n_periods = len(periods(campaign))
    for period in periods(campaign):
        if period.start > now:
            break
        closed = period.deadline <= now
        for cu in sorted(campaign.units, key=lambda c: c.unit.code):
            roll = rng.random()
            if roll > (0.9 if closed else 0.45):
                continue
            late = closed and roll > 0.8
            at = period.deadline + timedelta(hours=3) if late else min(now, period.deadline - timedelta(hours=1))
            at = max(at, period.start)
            if at > now:
                continue
            values = {}
            for m in campaign.metrics:
                target = target_map.get((cu.unit_id, m.id))
                base = (target / n_periods) if target else (6 if m.key == "residents_guided" else 3)
                values[m.id] = max(0, int(round(base * rng.uniform(0.5, 1.4))))
            write_report(campaign, cu.unit_id, period.index, values, user=operator, note=None, now=at,
                          audit_it=False)
    first = db.session.scalar(select(ProgressReport).where(ProgressReport.campaign_id == campaign.id)
                              .order_by(ProgressReport.id).limit(1))
    if first is not None:  # one correction, so the history shows
        values = {v.metric_id: v.value + 5 for v in first.values}
        write_report(campaign, first.unit_id, first.period_index, values, user=operator,
                      note="Bổ sung số liệu (demo)", now=max(first.reported_dt, now - timedelta(minutes=5)),
                      audit_it=False)


def seed_demo(operator: User | None, now: datetime | None = None) -> None:
    """Demo data: the teams (article figures) and both follow-up campaigns with some reports. Idempotent."""

    now = now or utcnow()
    if not db.session.scalar(select(func.count()).select_from(Unit).where(Unit.level == "district")):
        return
    import_teams(demo_teams_csv(), actor=operator, source="demo")
    actor = operator or db.session.scalar(select(User).where(User.role == "operator").limit(1))

    if not db.session.scalar(select(Campaign.id).where(Campaign.template == "seven_in_seven").limit(1)):
        data = template_defaults("seven_in_seven", now)
        # On the teams' map (2023: every district's communes), after a launch of that map still under
        # way or just past; else the 7 days from today (never the days after the launch of July 2023).
        data["district_ids"] = [u.id for u in db.session.scalars(
            select(Unit).where(Unit.level == "district", Unit.edition == LEGACY_EDITION))]
        anchor = db.session.scalar(
            select(Event).where(or_(Event.edition == LEGACY_EDITION, Event.edition.is_(None)),
                                Event.state != "cancelled", Event.end_dt >= now - timedelta(days=7))
            .order_by(Event.start_dt).limit(1))
        data["anchor_event_id"] = anchor.id if anchor is not None else None
        if anchor is None:
            today = to_local(now).date()
            data.update(date_mode="dates", start=local_midnight(today), end=local_midnight(today + timedelta(days=7)))
        data["name"] = "Mỗi thành viên Tổ CNSCĐ hướng dẫn 7 người dân trong 7 ngày"
        campaign = save_campaign(data, actor=actor, now=now)
        if actor is not None:
            _demo_reports(campaign, actor, now, seed=7)
            db.session.commit()

    if not db.session.scalar(select(Campaign.id).where(Campaign.template == "peak_30_days").limit(1)):
        data = template_defaults("peak_30_days", now)
        start_day = to_local(now).date() - timedelta(days=10)
        data.update(start=local_midnight(start_day), end=local_midnight(start_day + timedelta(days=32)),
                    name="Kế hoạch cao điểm 30 ngày đêm – huyện Mộ Đức (demo)",
                    description="Kế hoạch của huyện Mộ Đức từ 05/8/2023 đến 05/9/2023 (32 ngày), đẩy mạnh nộp hồ "
                                "sơ dịch vụ công trực tuyến. Dữ liệu demo: kế hoạch được dời ngày để đang diễn ra "
                                "(bắt đầu 10 ngày trước hôm nay), cùng độ dài và cách báo cáo hằng tuần.")
        campaign = save_campaign(data, actor=actor, now=now)
        if actor is not None:
            _demo_reports(campaign, actor, now, seed=30)
            db.session.commit()
