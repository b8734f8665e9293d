"""Render evaluations and rulebook tables for people (rich tables) and machines (JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from mincredit._decimals import exact
from mincredit._results import Evaluation, pretty, to_builtins
from mincredit.rules._compiling import CompiledRulebook


def number_text(value: Decimal | None) -> str:
    return "" if value is None else format(exact(value), "f")


def evaluation_data(evaluation: Evaluation) -> dict[str, Any]:
    """The JSON interchange form: decimals as exact decimal strings, dates as YYYY-MM-DD."""
    data: dict[str, Any] = to_builtins(evaluation)
    return data


def evaluation_json(evaluation: Evaluation) -> str:
    return pretty(evaluation)


def print_evaluation_table(evaluation: Evaluation, console: Console, *, details: bool = True) -> None:
    rulebook = evaluation.rulebook
    table = Table(
        title=f"{rulebook.title} — {rulebook.id} {rulebook.version} ({rulebook.status}), as of {evaluation.as_of}",
        title_justify="left",
    )
    table.add_column("统一社会信用代码 USCC", no_wrap=True)
    table.add_column("名称 name")
    table.add_column("grade", justify="center")
    table.add_column("等级含义")
    table.add_column("score N", justify="right")
    table.add_column("public", justify="right")
    table.add_column("deducted", justify="right")
    table.add_column("bonus", justify="right")
    table.add_column("note")
    for result in evaluation.results:
        table.add_row(
            result.uscc, result.name, result.grade or "—", result.grade_meaning or "",
            number_text(result.score), number_text(result.public_score),
            number_text(result.deductions) if result.evaluated else "",
            number_text(result.honour_bonus) if result.evaluated else "",
            result.not_evaluated_reason or "",
        )
    console.print(table)
    for result in evaluation.results:
        # warnings (a calendar year not yet published, a procedure step not recorded …) show without details too
        if not (details and result.items) and not result.warnings:
            continue
        console.print(f"[bold]{result.uscc} {result.name}[/bold]")
        for item in (result.items or []) if details else []:
            what = (f"{item.indicator}.{item.tier} {item.indicator_title}：{item.wording}"
                    if item.type == "violation" else f"{item.honour}（{item.level_name}）")
            mark = "✓" if item.counted else "·"
            console.print(f"  {mark} {item.record_id}: {what}", highlight=False, markup=False)
            console.print(f"      {item.explanation}", highlight=False, markup=False)
        for warning in result.warnings:
            console.print(f"  warning: {warning}", highlight=False, markup=False)
    if evaluation.errors:
        console.print(f"[bold red]{len(evaluation.errors)} error(s); these subjects were not evaluated:[/bold red]")
        for error in evaluation.errors:
            console.print(f"  {error.describe()}", highlight=False, markup=False)


def deduction_rows(rulebook: CompiledRulebook) -> list[dict[str, str | int]]:
    """One row per tier; the tier a number as in the evaluation output, the points exact decimal text."""
    rows: list[dict[str, str | int]] = []
    for indicator in rulebook.source.indicators:
        for tier in indicator.tiers:
            rows.append({
                "indicator": indicator.code, "tier": tier.tier, "points": number_text(tier.points),
                "indicator_title": indicator.title, "wording": tier.wording,
            })
    return rows


def deduction_table_text(rulebook: CompiledRulebook, fmt: str, console: Console | None = None) -> str | None:
    rows = deduction_rows(rulebook)
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()
    assert console is not None
    identity = rulebook.identity
    table = Table(title=f"{identity.title} — {identity.id} {identity.version}", title_justify="left")
    for name, justify in (("indicator", "left"), ("tier", "right"), ("points", "right"),
                          ("indicator title", "left"), ("tier wording", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*(str(value) for value in row.values()))
    console.print(table)
    return None
