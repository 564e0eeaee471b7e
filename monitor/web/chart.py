"""Hits per watchlist per day, drawn as SVG on the server (no chart library, no script)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor.store.review import Review
from monitor.usecases.activity import Activity, hits_per_day, since_for
from monitor.web import forms
from monitor.web.reading import reading_store
from monitor.web.render import page, params
from monitor.web.state import desk

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 30
COLOURS = ("#1f5fbf", "#d1495b", "#2a9d8f", "#e9c46a", "#7b2cbf", "#f4a261", "#264653", "#8ab17d")


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    colour: str
    points: str  # the SVG polyline's points
    total: int


@dataclass(frozen=True, slots=True)
class Plot:
    lines: tuple[Line, ...]
    ticks: tuple[tuple[float, str], ...]  # y position, count
    labels: tuple[tuple[float, str], ...]  # x position, day
    width: int = WIDTH
    height: int = HEIGHT


def plot(activity: Activity) -> Plot:
    """Where each watchlist's daily counts go on the chart (a pure function of the counts)."""
    days = len(activity.days)
    peak = max(activity.peak, 1)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(index: int) -> float:
        return LEFT + (inner_w * index / (days - 1) if days > 1 else inner_w / 2)

    def y(count: int) -> float:
        return TOP + inner_h * (1 - count / peak)

    lines = tuple(
        Line(
            name,
            COLOURS[number % len(COLOURS)],
            " ".join(f"{x(i):.1f},{y(c):.1f}" for i, c in enumerate(counts)),
            sum(counts),
        )
        for number, (name, counts) in enumerate(activity.counts.items())
    )
    steps = sorted({0, peak // 2, peak})
    ticks = tuple((y(step), str(step)) for step in steps)
    every = max(1, days // 6)
    labels = tuple((x(i), day.strftime("%m-%d")) for i, day in enumerate(activity.days) if i % every == 0)
    return Plot(lines, ticks, labels)


def chart_page(request: Request) -> Response:
    state = desk(request)
    count = forms.days(params(request))
    now = state.now()
    activity = hits_per_day(Review(reading_store(request)).hits_per_day(since_for(count, now)), count, now)
    return page(request, "chart.html", {"plot": plot(activity), "activity": activity, "days": count})


def routes() -> list[BaseRoute]:
    return [Route("/chart", chart_page, methods=["GET"])]
