"""Render evaluations and rulebook tables for people (rich tables) and machines (JSON, CSV).

What people read holds data: subjects' names, record ids, explanations, error messages, rulebook titles and file
names.  None of it is ever rich markup or emoji codes: a name holding ``[/]`` would crash the table and ``[red]``
would vanish from it.  So every cell, title and line made from data is a :class:`rich.text.Text`, which rich prints
as written whatever the console's settings; styles are ours, given as Text styles, never as markup in a string.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

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


def titled_table(title: str) -> Table:
    """A table under a title that is data (never markup), and at least as wide as its title, so that a short
    table does not wrap its title into a column of fragments (on a terminal, at most the terminal's width)."""
    text = Text(title)
    return Table(title=text, title_justify="left", min_width=text.cell_len)


def cells(*values: str) -> list[Text]:
    """Table cells printed as written: data, never markup."""
    return [Text(value) for value in values]


def print_evaluation_table(evaluation: Evaluation, console: Console, *, details: bool = True) -> None:
    rulebook = evaluation.rulebook
    table = titled_table(f"{rulebook.title} — {rulebook.id} {rulebook.version} ({rulebook.status}), "
                         f"as of {evaluation.as_of}")
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
        table.add_row(*cells(
            result.uscc, result.name, result.grade or "—", result.grade_meaning or "",
            number_text(result.score), number_text(result.public_score),
            number_text(result.deductions) if result.evaluated else "",
            number_text(result.honour_bonus) if result.evaluated else "",
            result.not_evaluated_reason or "",
        ))
    console.print(table)
    for result in evaluation.results:
        # warnings (a calendar year not yet published, a procedure step not recorded …) show without details too
        if not (details and result.items) and not result.warnings:
            continue
        console.print(Text(f"{result.uscc} {result.name}", style="bold"))
        for item in (result.items or []) if details else []:
            what = (f"{item.indicator}.{item.tier} {item.indicator_title}：{item.wording}"
                    if item.type == "violation" else f"{item.honour}（{item.level_name}）")
            mark = "✓" if item.counted else "·"
            console.print(Text(f"  {mark} {item.record_id}: {what}"))
            console.print(Text(f"      {item.explanation}"))
        for warning in result.warnings:
            console.print(Text(f"  warning: {warning}"))
    if evaluation.errors:
        console.print(Text(f"{len(evaluation.errors)} error(s); these subjects were not evaluated:", style="bold red"))
        for error in evaluation.errors:
            console.print(Text(f"  {error.describe()}"))


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
    table = titled_table(f"{identity.title} — {identity.id} {identity.version}")
    for name, justify in (("indicator", "left"), ("tier", "right"), ("points", "right"),
                          ("indicator title", "left"), ("tier wording", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*cells(*(str(value) for value in row.values())))
    console.print(table)
    return None
