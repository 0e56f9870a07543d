"""Insights as Vega-Lite v5 specifications: chart-ready, openable in any Vega tool.

A specification is built from the answer the brand receives (its ``groups`` as JSON), never
from anything more: post-processing of the release, so it costs no epsilon and shows exactly
the published numbers. Suppressed groups are left out of the marks and named in the
description; every bar carries its 95% interval as an error bar, and the title says the
epsilon spent and the noise, so a chart read on its own is read with its uncertainty.
"""

from __future__ import annotations

from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
MEDIA_TYPE = "application/json"


def specification(answer: dict[str, Any]) -> dict[str, Any]:
    """The Vega-Lite v5 specification of an insights ``answer`` (the API's JSON)."""
    query, privacy = answer["query"], answer["privacy"]
    groups = answer["groups"]
    shown = [g for g in groups if not g["suppressed"]]
    hidden = [_label(g) for g in groups if g["suppressed"]]
    values: list[dict[str, Any]]
    if query["kind"] == "touchpoints":
        measure = "NPS" if query["measure"] == "nps" else "mean rating"
        values = [{"touchpoint": g["touchpoint"], "by": g.get("by"),
                   "value": round(g["value"]["value"], 1), "low": round(g["value"]["low"], 1),
                   "high": round(g["value"]["high"], 1),
                   "respondents": round(g["respondents"]["value"])} for g in shown]
        category, axis = "touchpoint", measure
        domain = [-100, 100] if query["measure"] == "nps" else [1, 5]
        text = f"{measure} per touchpoint"
    else:
        values = [{"category": c["category"], "by": g.get("by"), "value": round(c["value"]),
                   "low": round(c["low"]), "high": round(c["high"])}
                  for g in shown for c in g["counts"]]
        category, axis, domain = "category", "members", None
        text = f"Members by {query['attribute']}"
    for value in values:
        value["label"] = f"{value['value']:g}  [{value['low']:g}, {value['high']:g}]"
    title = {"text": f"{text} ({query['purpose']})",
             "subtitle": (f"Differentially private: epsilon {privacy['epsilon']:g}, discrete"
                          f" Laplace noise of scale {privacy['noise_scale']:g}; each bar with"
                          f" its {round(privacy['confidence'] * 100)}% interval.")}
    scale: dict[str, Any] = {"domain": domain} if domain else {"zero": True}
    encoding: dict[str, Any] = {
        "y": {"field": category, "type": "nominal", "sort": None, "title": None},
    }
    if query.get("by"):
        encoding["yOffset"] = {"field": "by", "type": "nominal"}
        encoding["color"] = {"field": "by", "type": "nominal", "title": query["by"]}
    layers = [
        {"mark": {"type": "bar"},
         "encoding": {"x": {"field": "value", "type": "quantitative", "title": axis,
                            "scale": scale}}},
        {"mark": {"type": "errorbar", "ticks": True, "color": "black"},
         "encoding": {"x": {"field": "low", "type": "quantitative", "title": axis},
                      "x2": {"field": "high"}}},
        # The figures beside the chart, readable without hovering: value [low, high].
        {"mark": {"type": "text", "align": "left", "dx": 8},
         "encoding": {"x": {"value": 480}, "text": {"field": "label", "type": "nominal"}}},
    ]
    description = "Suppressed (below the minimum cohort): " + (", ".join(hidden) or "none")
    return {"$schema": SCHEMA, "description": description, "title": title,
            "data": {"values": values}, "encoding": encoding, "layer": layers,
            "width": 480, "padding": {"right": 150, "left": 5, "top": 5, "bottom": 5}}


def _label(group: dict[str, Any]) -> str:
    parts = [group.get("touchpoint"), group.get("by")]
    return " / ".join(str(p) for p in parts if p) or "all"


def survey_specification(answer: dict[str, Any]) -> dict[str, Any]:
    """The Vega-Lite v5 specification of a survey's results: one row of bars per question
    (members per choice, or the question's mean rating or NPS), each with its interval."""
    values: list[dict[str, Any]] = []
    hidden: list[str] = []
    for question in answer["questions"]:
        name = f"Q{question['position'] + 1} ({question['kind']})"
        for group in question["groups"]:
            if group["suppressed"]:
                hidden.append(name + (f" / {group['by']}" if group.get("by") else ""))
                continue
            if group["counts"] is not None:
                values += [{"question": name, "label": c["category"], "by": group.get("by"),
                            "value": c["value"], "low": c["low"], "high": c["high"]}
                           for c in group["counts"]]
            else:
                label = "NPS" if question["kind"] == "nps" else "mean rating"
                estimate = group["value"]
                values.append({"question": name, "label": label, "by": group.get("by"),
                               "value": round(estimate["value"], 2),
                               "low": round(estimate["low"], 2),
                               "high": round(estimate["high"], 2)})
    encoding: dict[str, Any] = {"y": {"field": "label", "type": "nominal", "sort": None,
                                      "title": None}}
    if answer["query"].get("by"):
        encoding["yOffset"] = {"field": "by", "type": "nominal"}
        encoding["color"] = {"field": "by", "type": "nominal",
                             "title": answer["query"]["by"]}
    return {
        "$schema": SCHEMA,
        "description": "Suppressed (below the minimum cohort): " + (", ".join(hidden) or "none"),
        "title": {"text": f"Survey results ({answer['query']['purpose']})",
                  "subtitle": f"Differentially private: epsilon {answer['epsilon']:g} shared"
                              " among the questions; bars show the 95% interval."},
        "data": {"values": values},
        "facet": {"row": {"field": "question", "type": "nominal", "title": None,
                          "sort": None}},
        "resolve": {"scale": {"x": "independent", "y": "independent"}},
        "spec": {"width": 420, "encoding": encoding, "layer": [
            {"mark": {"type": "bar"},
             "encoding": {"x": {"field": "value", "type": "quantitative", "title": None}}},
            {"mark": {"type": "errorbar", "ticks": True},
             "encoding": {"x": {"field": "low", "type": "quantitative"},
                          "x2": {"field": "high"}}},
        ]},
    }
