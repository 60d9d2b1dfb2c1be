"""`hydra-jobs analyze RUN_ID` and `hydra-jobs ai generate "..."`: AI help from the terminal.

Everything a model wrote is printed as escaped text; a draft is saved only after it was shown and
the user agreed (or passed `--yes`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from hydra_jobs.cli.common import (
    DEFAULT_URL,
    DataDirOpt,
    RunIdArg,
    TokenOpt,
    UrlOpt,
    call,
    client_for,
    confirm_or_stop,
    fail,
    out,
)

ai_app = typer.Typer(help="AI help: draft a job from one sentence.")
LOCALTIME = Path("/etc/localtime")


def analyze(
    run_id: RunIdArg,
    provider: Annotated[
        str | None,
        typer.Option(
            help="gemini, openai or heuristic (built-in rules, no key). Default: a "
            "configured model, else the rules."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Ask again, not the stored answer.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="The answer as the API returns it.")
    ] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Why a failed, timed out or lost run failed: cause, evidence lines, a fix."""
    answer = call(client_for(url, token, data_dir).analyze, run_id, provider=provider, force=force)
    if as_json:
        out.print_json(json.dumps(answer))
        return
    for line in analysis_lines(answer):
        out.print(escape(line), soft_wrap=True, highlight=False)


def analysis_lines(answer: dict[str, Any]) -> list[str]:
    by = answer["provider"] + (f" ({answer['model']})" if answer.get("model") else "")
    lines = [
        f"{answer['summary']}",
        f"category: {answer['category']}  confidence: {answer['confidence']:.0%}  by: {by}"
        + ("  (stored answer)" if answer.get("cached") else ""),
        "",
        f"cause: {answer['probable_cause']}",
    ]
    if answer["evidence"]:
        lines += ["", "evidence:"]
        lines += [f"  line {e['line']:>5}: {e['text']}" for e in answer["evidence"]]
    lines += ["", f"fix: {answer['suggested_fix']}"]
    if answer.get("suggested_spec_patch"):
        valid = {True: "valid", False: "NOT valid", None: "not checked"}[answer.get("patch_valid")]
        lines += [
            "",
            f"suggested change of the job spec ({valid}; nothing was applied):",
            json.dumps(answer["suggested_spec_patch"], indent=2),
        ]
    if answer.get("same_failures"):
        lines += [
            "",
            f"failed the same way {answer['same_failures']} time(s) before, since "
            f"{answer['same_failures_since']}: "
            + ", ".join(r["id"] for r in answer.get("similar_runs", [])),
        ]
    return lines


@ai_app.command()
def generate(
    prompt: Annotated[str, typer.Argument(help="What the job should do, in one sentence.")],
    provider: Annotated[str | None, typer.Option(help="gemini or openai.")] = None,
    model: Annotated[str | None, typer.Option(help="Another model of the provider.")] = None,
    save: Annotated[bool, typer.Option("--save", help="Save the draft (asks first).")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Save without asking.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="The answer as the API returns it.")
    ] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Draft a job from one sentence; shows it with its validation and next fire times."""
    client = client_for(url, token, data_dir)
    draft = call(client.generate, prompt, provider=provider, model=model, timezone=local_timezone())
    if as_json:
        out.print_json(json.dumps(draft))
    else:
        for line in draft_lines(draft):
            out.print(escape(line), soft_wrap=True, highlight=False)
    if not save:
        return
    if not draft["valid"]:
        raise fail("the draft is not valid; not saved (fix it and use hydra-jobs submit)")
    name = draft["spec"].get("name", "")
    confirm_or_stop(yes, f"save job {name}?", "not saved")
    job = call(client.create_job, draft["spec"])
    out.print(f"saved job {escape(job['name'])} ({job['id']})")


def draft_lines(draft: dict[str, Any]) -> list[str]:
    usage = draft["usage"]
    lines = [
        json.dumps(draft["spec"], indent=2),
        "",
        draft.get("explanation") or "",
        f"by {draft['provider']} ({draft['model']}), {usage['input_tokens']} + "
        f"{usage['output_tokens']} tokens, {draft['attempts']} call(s)",
    ]
    if draft["valid"]:
        lines.append("valid")
    else:
        lines.append("NOT valid:")
        for error in draft["errors"]:
            where = ".".join(str(p) for p in error["loc"][1:]) or "spec"
            lines.append(f"  {where}: {error['msg']}")
    if draft["next_fires"]:
        lines.append("next fires: " + ", ".join(draft["next_fires"]))
    return lines


def local_timezone() -> str | None:
    """This machine's IANA timezone, from /etc/localtime's link (None when it cannot tell)."""
    try:
        target = str(LOCALTIME.resolve())
    except OSError:
        return None
    _, found, name = target.partition("/zoneinfo/")
    return name if found and name else None


def register(app: typer.Typer) -> None:
    app.command()(analyze)
    app.add_typer(ai_app, name="ai")
