"""One school of a group made ready to scan (group.yaml's defaults and scope applied, or a
perimeter school built from its row), and its reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cyberstd.catalog import Catalog
from cyberstd.clock import Clock
from cyberstd.errors import InputError
from cyberstd.group.job import GroupOptions, SchoolJob
from cyberstd.results import Results
from cyberstd.schema import Authorization, SchoolFile
from cyberstd.school import SchoolFolder, load_school


def with_defaults(
    school: SchoolFile, defaults: dict[str, Any], scope: list[dict[str, Any]]
) -> SchoolFile:
    """school.yaml with what group.yaml gives every school: what the school says itself wins;
    the group's scope authorisations come after the school's own."""
    update: dict[str, Any] = {}
    if school.profile is None and defaults.get("profile"):
        update["profile"] = defaults["profile"]
    network: dict[str, Any] = {}
    if school.network.resolver is None and defaults.get("resolver"):
        network["resolver"] = defaults["resolver"]
    if "timeout" not in school.network.model_fields_set and defaults.get("timeout"):
        network["timeout"] = defaults["timeout"]
    if network:
        update["network"] = school.network.model_validate(
            {**school.network.model_dump(exclude_unset=True), **network}
        )
    if scope:
        update["scope"] = [*school.scope, *(Authorization.model_validate(a) for a in scope)]
    return school.model_copy(update=update) if update else school


def prepare(job: SchoolJob, folder_dir: Path, catalog: Catalog, clock: Clock) -> SchoolFolder:
    """The school folder to scan; InputError with every problem of a school folder."""
    if job.school is not None:
        school = SchoolFile.model_validate(job.school)
        return SchoolFolder(folder_dir, with_defaults(school, job.defaults, job.scope))
    loaded, problems = load_school(folder_dir, catalog, clock.today)
    if problems or loaded is None:
        raise InputError(problems)
    loaded.school = with_defaults(loaded.school, job.defaults, job.scope)
    return loaded


def render_reports(results: Results, options: GroupOptions) -> dict[str, bytes]:
    """The reports of one school (besides results.json), by file name."""
    from cyberstd.report import SUFFIX, renderer

    out: dict[str, bytes] = {}
    for fmt in options.formats:
        text = renderer(fmt)(results, options.lang)
        out[f"report.{options.lang}.{SUFFIX[fmt]}"] = text.encode("utf-8")
    return out
