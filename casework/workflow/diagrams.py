"""Diagrams of a lifecycle from its declaration: Mermaid text and a self-contained SVG.

Both mark the current state when one is given (class ``current`` in Mermaid, a filled box in SVG).
"""
from __future__ import annotations

from html import escape

from casework.text import language
from casework.workflow.lifecycles import lifecycle_for
from workflows import Lifecycle

CURRENT_FILL = "#fde68a"


def mermaid(lc: Lifecycle, current: str | None = None, locale: str = "zh") -> str:
    """A Mermaid ``stateDiagram-v2``; internal transitions (no state change) are left out."""
    lines = ["stateDiagram-v2"]
    for state in lc.states.values():
        lines.append(f'    state "{state.label.pick(locale)}" as {state.name}')
    lines.append(f"    [*] --> {lc.initial}")
    for t in lc.transitions:
        if t.dest is None:
            continue
        for source in t.sources:
            who = "system" if t.system else "/".join(t.roles)
            lines.append(f"    {source} --> {t.dest}: {t.label.pick(locale)} ({who})")
    for state in lc.states.values():
        if state.final:
            lines.append(f"    {state.name} --> [*]")
    if current in lc.states:
        lines.append(f"    classDef current fill:{CURRENT_FILL},stroke:#b45309,stroke-width:3px")
        lines.append(f"    class {current} current")
    return "\n".join(lines) + "\n"


def _layers(lc: Lifecycle) -> dict[str, int]:
    """Breadth-first depth of each state from the initial one (unreached states go last)."""
    depth = {lc.initial: 0}
    frontier = [lc.initial]
    while frontier:
        following = []
        for state in frontier:
            for t in lc.transitions:
                if state in t.sources and t.dest and t.dest not in depth:
                    depth[t.dest] = depth[state] + 1
                    following.append(t.dest)
        frontier = following
    last = max(depth.values(), default=0) + 1
    return {name: depth.get(name, last) for name in lc.states}


def svg(lc: Lifecycle, current: str | None = None, locale: str = "zh") -> str:
    """A layered SVG read top to bottom: one row per distance from the initial state, arrows between
    boxes; narrow enough (four boxes at most side by side) to be read at its natural size on a page."""
    box_w, box_h, gap_x, gap_y = 160, 40, 40, 36
    layers = _layers(lc)
    rows: dict[int, list[str]] = {}
    for name, layer in layers.items():
        rows.setdefault(layer, []).append(name)
    pos = {}
    for layer, names in rows.items():
        for column, name in enumerate(names):
            pos[name] = (20 + column * (box_w + gap_x), 20 + layer * (box_h + gap_y))
    width = 40 + max(len(n) for n in rows.values()) * (box_w + gap_x) - gap_x
    height = 40 + len(rows) * (box_h + gap_y) - gap_y
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="Noto Sans CJK SC, sans-serif" font-size="13">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    for t in lc.transitions:
        if t.dest is None:
            continue
        for source in t.sources:
            (x1, y1), (x2, y2) = pos[source], pos[t.dest]
            down = y2 > y1
            parts.append(f'<line x1="{x1 + box_w / 2}" y1="{y1 + box_h if down else y1}" x2="{x2 + box_w / 2}" '
                         f'y2="{y2 if down else y2 + box_h}" stroke="#999" marker-end="url(#arrow)">'
                         f'<title>{escape(t.label.pick(locale))}</title></line>')
    for name, state in lc.states.items():
        x, y = pos[name]
        fill = CURRENT_FILL if name == current else "#ffffff"
        stroke_w = 3 if name == current else (2 if state.final else 1)
        parts.append(f'<g class="state{" current" if name == current else ""}" data-state="{name}">'
                     f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="8" fill="{fill}" '
                     f'stroke="#333" stroke-width="{stroke_w}"/>'
                     f'<text x="{x + box_w / 2}" y="{y + box_h / 2 + 5}" text-anchor="middle">'
                     f'{escape(state.label.pick(locale))}</text></g>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def svg_for(obj, locale: str | None = None) -> str:
    """The SVG of the object's lifecycle with its current state highlighted, in the user's language."""
    return svg(lifecycle_for(obj), obj.state, locale or language())
