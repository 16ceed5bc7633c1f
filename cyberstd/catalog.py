"""Loads standards/, checks/ and profiles/ and cross-checks every reference between them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from cyberstd.errors import InputError, Problem, UsageError
from cyberstd.kinds import ExportKind, KindsFile
from cyberstd.messages import msg
from cyberstd.paths import catalog_name, default_root, display_path
from cyberstd.probes import probes
from cyberstd.registry import ProbeParams
from cyberstd.schema import (
    CheckDef,
    ChecksFile,
    ControlDef,
    ControlsFile,
    FrameworkMeta,
    MappingEntry,
    MappingFile,
    ProfileDef,
)
from cyberstd.validation import did_you_mean, parse, suggest

if TYPE_CHECKING:
    from cyberstd.yamlsrc import Document


@dataclass
class Framework:
    meta: FrameworkMeta
    controls: dict[str, ControlDef]
    mappings: dict[str, MappingEntry]

    @property
    def levels(self) -> list[int]:
        return sorted(level.level for level in self.meta.levels)


@dataclass
class Catalog:
    root: Path
    frameworks: dict[str, Framework] = field(default_factory=dict)
    checks: dict[str, CheckDef] = field(default_factory=dict)
    profiles: dict[str, ProfileDef] = field(default_factory=dict)
    kinds: dict[str, ExportKind] = field(default_factory=dict)
    probe_kinds: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)

    def framework(self, framework_id: str) -> Framework:
        if framework_id not in self.frameworks:
            hint = did_you_mean(framework_id, self.frameworks)
            raise UsageError(f"unknown framework {framework_id!r}{hint}")
        return self.frameworks[framework_id]

    def profile(self, profile_id: str) -> ProfileDef:
        if profile_id not in self.profiles:
            said = msg(
                "input.profile.unknown",
                profile=repr(profile_id),
                hint=suggest(profile_id, self.profiles),
                known=", ".join(sorted(self.profiles)),
            )
            raise UsageError(said)
        return self.profiles[profile_id]

    def find_control(self, control_id: str) -> tuple[Framework, ControlDef] | None:
        for fw in self.frameworks.values():
            if control_id in fw.controls:
                return fw, fw.controls[control_id]
        return None

    def all_control_ids(self) -> list[str]:
        return [cid for fw in self.frameworks.values() for cid in fw.controls]


def plain(value: Any) -> Any:
    """Values as plain dicts, lists and scalars (the YAML loader's own types carry comments and
    positions, which the cached catalog need not hold)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def validate_params(check_params: dict[str, Any], model: type[ProbeParams]) -> ProbeParams:
    return model.model_validate(check_params)


class _Loader:
    """Collects documents and problems while loading one catalog root."""

    def __init__(self, root: Path) -> None:
        self.catalog = Catalog(root=root)
        self.problems: list[Problem] = []
        self.docs: dict[str, Document] = {}

    def load(self, path: Path) -> Document | None:
        from cyberstd.yamlsrc import load  # ruamel.yaml: only when the catalog is not cached

        shown = display_path(path)
        try:
            doc = load(path, shown)
        except InputError as exc:
            self.problems.extend(exc.problems)
            return None
        self.catalog.inputs[catalog_name(path, self.catalog.root)] = doc.sha256
        return doc


def load_catalog(root: Path | None = None) -> tuple[Catalog, list[Problem]]:
    """Load and cross-check the whole catalog; return it with every problem found.

    A catalog that loaded without problems is cached (catalog_cache.py) and, while no file
    changes, taken from there without reading the YAML again."""
    from cyberstd import catalog_cache

    base = root or default_root()
    key, files = catalog_cache.fingerprint(base)
    inputs = {catalog_name(Path(p), base): sha for p, sha in files.items()}
    data = catalog_cache.read(key)
    if data is not None:
        try:
            cached = _build(base, data)
        except (ValueError, KeyError, TypeError, AttributeError):
            cached = None  # not what we wrote (pydantic's ValidationError is a ValueError)
        if cached is not None:
            cached.inputs = inputs
            return cached, []
    catalog, problems = _load_catalog(base)
    # The same inputs whether the catalog came from the cache or not: every file of it (those
    # read by the reports and probes too, such as checks/data/min-versions.yaml).
    catalog.inputs = inputs
    if not problems:
        catalog_cache.write(key, _dump(catalog))
    return catalog, problems


_ADAPTERS: dict[str, Any] = {}


def _adapter(name: str) -> Any:
    """The pydantic adapter that validates one section of the cache file."""
    if not _ADAPTERS:
        from pydantic import TypeAdapter

        from cyberstd.kinds import ExportKind
        from cyberstd.schema import CheckDef, ControlDef, FrameworkMeta, MappingEntry, ProfileDef

        _ADAPTERS.update(
            meta=TypeAdapter(FrameworkMeta),
            controls=TypeAdapter(dict[str, ControlDef]),
            mappings=TypeAdapter(dict[str, MappingEntry]),
            checks=TypeAdapter(dict[str, CheckDef]),
            profiles=TypeAdapter(dict[str, ProfileDef]),
            kinds=TypeAdapter(dict[str, ExportKind]),
            probe_kinds=TypeAdapter(dict[str, str]),
        )
    return _ADAPTERS[name]


def _dump(catalog: Catalog) -> bytes:
    """The catalog as the cache keeps it: JSON, each section as its model dumps it."""

    def section(name: str, value: Any) -> str:
        return str(_adapter(name).dump_json(value).decode())

    document = {
        "frameworks": {
            fid: {
                "meta": section("meta", fw.meta),
                "controls": section("controls", fw.controls),
                "mappings": section("mappings", fw.mappings),
            }
            for fid, fw in catalog.frameworks.items()
        },
        **{
            name: section(name, getattr(catalog, name))
            for name in ("checks", "profiles", "kinds", "probe_kinds")
        },
    }
    return json.dumps(document).encode()


def _build(root: Path, data: bytes) -> Catalog:
    """A catalog from the cache's JSON, validated by the same models as the YAML."""
    document = json.loads(data)
    frameworks = {
        fid: Framework(
            meta=_adapter("meta").validate_json(fw["meta"]),
            controls=_adapter("controls").validate_json(fw["controls"]),
            mappings=_adapter("mappings").validate_json(fw["mappings"]),
        )
        for fid, fw in document["frameworks"].items()
    }
    return Catalog(
        root=root,
        frameworks=frameworks,
        **{
            name: _adapter(name).validate_json(document[name])
            for name in ("checks", "profiles", "kinds", "probe_kinds")
        },
    )


def _load_catalog(base: Path) -> tuple[Catalog, list[Problem]]:
    loader = _Loader(base)
    if not (base / "standards").is_dir():
        loader.problems.append(
            Problem(display_path(base), 1, 1, "missing-file", "no standards/ folder here")
        )
        return loader.catalog, loader.problems
    for path in sorted((base / KINDS_DIR).glob("*.yaml")):
        _load_kinds(loader, path)
    check_docs = _load_checks(loader, sorted((base / "checks").glob("*.yaml")))
    for fw_dir in sorted(p for p in (base / "standards").iterdir() if p.is_dir()):
        _load_framework(loader, fw_dir)
    _cross_check_checks(loader, check_docs)
    _load_profiles(loader, sorted((base / "profiles").glob("*.yaml")))
    return loader.catalog, loader.problems


# One file per family of systems; every file is read and a kind's id is unique over all.
KINDS_DIR = Path("checks") / "data" / "kinds"


def _load_kinds(loader: _Loader, path: Path) -> None:
    doc = loader.load(path)
    if doc is None:
        return
    model, problems = parse(doc, KindsFile)
    loader.problems.extend(problems)
    if model is None:
        return
    from cyberstd.parsers import formats

    known = formats()
    for i, kind in enumerate(model.kinds):
        if kind.format not in known:
            hint = did_you_mean(kind.format, known)
            loader.problems.append(
                doc.problem(
                    ["kinds", i, "format"], "unknown-id", f"unknown format {kind.format!r}{hint}"
                )
            )
        if kind.id in loader.catalog.kinds:
            loader.problems.append(
                doc.problem(
                    ["kinds", i, "id"], "duplicate-id", f"kind {kind.id!r} is defined twice"
                )
            )
            continue
        loader.catalog.kinds[kind.id] = kind


def _load_checks(loader: _Loader, paths: Iterable[Path]) -> dict[str, tuple[Document, int]]:
    where: dict[str, tuple[Document, int]] = {}
    for path in paths:
        doc = loader.load(path)
        if doc is None:
            continue
        model, problems = parse(doc, ChecksFile)
        loader.problems.extend(problems)
        if model is None:
            continue
        for i, check in enumerate(model.checks):
            if check.id in loader.catalog.checks:
                first = where[check.id][0].display
                loader.problems.append(
                    doc.problem(
                        ["checks", i, "id"],
                        "duplicate-id",
                        f"check {check.id!r} is already defined in {first}",
                    )
                )
                continue
            loader.catalog.checks[check.id] = check.model_copy(
                update={"params": plain(check.params)}
            )
            where[check.id] = (doc, i)
    return where


def _cross_check_checks(loader: _Loader, where: dict[str, tuple[Document, int]]) -> None:
    registry = probes()
    for check_id, (doc, i) in where.items():
        check = loader.catalog.checks[check_id]
        if check.probe not in registry:
            hint = did_you_mean(check.probe, registry)
            loader.problems.append(
                doc.problem(
                    ["checks", i, "probe"], "unknown-id", f"unknown probe {check.probe!r}{hint}"
                )
            )
            continue
        loader.catalog.probe_kinds[check.probe] = str(registry[check.probe].kind)
        found = params_problems(
            doc, ["checks", i, "params"], check.params, registry[check.probe].params
        )
        loader.problems.extend(found)
        if not found:
            loader.problems.extend(_kind_problems(loader, doc, i, check))


def _kind_problems(loader: _Loader, doc: Document, i: int, check: CheckDef) -> list[Problem]:
    """Every export kind that a configuration rule names must be a known kind."""
    kinds = loader.catalog.kinds
    out: list[Problem] = []
    named: list[tuple[list[int | str], Any]] = [(["kind"], check.params.get("kind"))]
    for part in ("any_of", "all_of"):
        for j, alt in enumerate(check.params.get(part) or []):
            if isinstance(alt, dict) and "kind" in alt:
                named.append(([part, j, "kind"], alt["kind"]))
    for loc, kind in named:
        if isinstance(kind, str) and check.probe == "config.rule" and kind not in kinds:
            hint = did_you_mean(kind, kinds)
            out.append(
                doc.problem(
                    ["checks", i, "params", *loc],
                    "unknown-id",
                    f"unknown export kind {kind!r}{hint}",
                )
            )
    return out


def params_problems(
    doc: Document, loc: list[int | str], values: dict[str, Any], model: type[ProbeParams]
) -> list[Problem]:
    """Problems of `values` against a probe's params model, positioned inside `doc`."""
    try:
        model.model_validate(values)
    except ValidationError as exc:
        out = []
        for err in exc.errors(include_url=False):
            sub = [*loc, *err["loc"]]
            name = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                hint = did_you_mean(str(err["loc"][-1]), model.model_fields)
                out.append(
                    doc.problem(
                        sub, "invalid-params", f"unknown parameter {name!r}{hint}", key=True
                    )
                )
            else:
                msg = str(err["msg"]).removeprefix("Value error, ")
                out.append(doc.problem(sub, "invalid-params", f"parameter {name!r}: {msg}"))
        return out
    return []


def _load_framework(loader: _Loader, fw_dir: Path) -> None:
    docs = {
        name: loader.load(fw_dir / f"{name}.yaml") for name in ("framework", "controls", "mapping")
    }
    meta_doc, controls_doc, mapping_doc = docs["framework"], docs["controls"], docs["mapping"]
    if meta_doc is None or controls_doc is None or mapping_doc is None:
        return
    meta, p1 = parse(meta_doc, FrameworkMeta)
    controls, p2 = parse(controls_doc, ControlsFile)
    mapping, p3 = parse(mapping_doc, MappingFile)
    loader.problems.extend(p1 + p2 + p3)
    if meta is None or controls is None or mapping is None:
        return
    if meta.id in loader.catalog.frameworks:
        loader.problems.append(
            meta_doc.problem(["id"], "duplicate-id", f"framework {meta.id!r} defined twice")
        )
        return
    levels = {lvl.level for lvl in meta.levels}
    by_id: dict[str, ControlDef] = {}
    for i, control in enumerate(controls.controls):
        if control.id in by_id:
            loader.problems.append(
                controls_doc.problem(
                    ["controls", i, "id"],
                    "duplicate-id",
                    f"control {control.id!r} is defined twice",
                )
            )
            continue
        if control.level not in levels:
            loader.problems.append(
                controls_doc.problem(
                    ["controls", i, "level"],
                    "invalid",
                    f"level {control.level} is not one of the framework's levels {sorted(levels)}",
                )
            )
        if control.type not in meta.control_types:
            hint = did_you_mean(control.type, meta.control_types)
            loader.problems.append(
                controls_doc.problem(
                    ["controls", i, "type"],
                    "invalid",
                    f"unknown control type {control.type!r}{hint}",
                )
            )
        for scheme in control.crosswalks:
            if scheme not in meta.crosswalk_schemes:
                hint = did_you_mean(scheme, meta.crosswalk_schemes)
                loader.problems.append(
                    controls_doc.problem(
                        ["controls", i, "crosswalks", scheme],
                        "unknown-id",
                        f"unknown crosswalk scheme {scheme!r}{hint}",
                        key=True,
                    )
                )
        by_id[control.id] = control
    if mapping.framework != meta.id:
        loader.problems.append(
            mapping_doc.problem(
                ["framework"],
                "unknown-id",
                f"mapping is for framework {mapping.framework!r}, but this folder holds {meta.id!r}",
            )
        )
    mapped: dict[str, MappingEntry] = {}
    for i, entry in enumerate(mapping.mappings):
        if entry.control not in by_id:
            hint = did_you_mean(entry.control, by_id, close=False)
            loader.problems.append(
                mapping_doc.problem(
                    ["mappings", i, "control"],
                    "unknown-id",
                    f"unknown control {entry.control!r}{hint}",
                )
            )
            continue
        if entry.control in mapped:
            loader.problems.append(
                mapping_doc.problem(
                    ["mappings", i, "control"],
                    "duplicate-id",
                    f"control {entry.control!r} is mapped twice",
                )
            )
            continue
        for key in ("checks", "recommended"):
            for j, check_id in enumerate(getattr(entry, key)):
                if check_id not in loader.catalog.checks:
                    hint = did_you_mean(check_id, loader.catalog.checks)
                    loader.problems.append(
                        mapping_doc.problem(
                            ["mappings", i, key, j],
                            "unknown-id",
                            f"unknown check {check_id!r}{hint}",
                        )
                    )
        mapped[entry.control] = entry
    for control_id in by_id:
        if control_id not in mapped:
            loader.problems.append(
                mapping_doc.problem(
                    ["mappings"], "missing-mapping", f"control {control_id!r} has no mapping entry"
                )
            )
    for i, control in enumerate(controls.controls):
        other = loader.catalog.find_control(control.id)
        if other is not None:
            loader.problems.append(
                controls_doc.problem(
                    ["controls", i, "id"],
                    "duplicate-id",
                    f"control id {control.id!r} is also used by framework {other[0].meta.id!r}; "
                    "control ids must be unique across frameworks (attestations name them alone)",
                )
            )
    loader.catalog.frameworks[meta.id] = Framework(meta, by_id, mapped)


def _load_profiles(loader: _Loader, paths: Iterable[Path]) -> None:
    cat = loader.catalog
    docs: dict[str, Document] = {}
    for path in paths:
        doc = loader.load(path)
        if doc is None:
            continue
        profile, problems = parse(doc, ProfileDef)
        loader.problems.extend(problems)
        if profile is None:
            continue
        if profile.id != path.stem:
            loader.problems.append(
                doc.problem(
                    ["id"],
                    "invalid",
                    f"profile id {profile.id!r} must match its file name {path.stem!r}",
                )
            )
        if profile.id in cat.profiles:
            loader.problems.append(
                doc.problem(["id"], "duplicate-id", f"profile {profile.id!r} defined twice")
            )
            continue
        cat.profiles[profile.id] = profile.model_copy(update={"params": plain(profile.params)})
        docs[profile.id] = doc
    for profile_id, doc in docs.items():
        loader.problems.extend(_profile_problems(cat, cat.profiles[profile_id], doc))


def _profile_problems(cat: Catalog, profile: ProfileDef, doc: Document) -> list[Problem]:
    out: list[Problem] = []
    fw = cat.frameworks.get(profile.framework)
    if fw is None:
        hint = did_you_mean(profile.framework, cat.frameworks)
        return [
            doc.problem(
                ["framework"], "unknown-id", f"unknown framework {profile.framework!r}{hint}"
            )
        ]
    if profile.target_level is not None and profile.target_level not in fw.levels:
        out.append(
            doc.problem(["target_level"], "invalid", f"target_level must be one of {fw.levels}")
        )
    if profile.extends is not None:
        chain = [profile.id]
        parent: str | None = profile.extends
        while parent is not None:
            if parent not in cat.profiles:
                hint = did_you_mean(parent, cat.profiles)
                out.append(
                    doc.problem(["extends"], "unknown-id", f"unknown profile {parent!r}{hint}")
                )
                break
            if parent in chain:
                out.append(
                    doc.problem(
                        ["extends"],
                        "invalid",
                        f"profiles extend each other in a loop: {' -> '.join([*chain, parent])}",
                    )
                )
                break
            chain.append(parent)
            if cat.profiles[parent].framework != profile.framework:
                out.append(
                    doc.problem(
                        ["extends"], "invalid", f"profile {parent!r} is for another framework"
                    )
                )
            parent = cat.profiles[parent].extends
    for i, promo in enumerate(profile.require):
        advised = [c for c, m in fw.mappings.items() if promo.check in m.recommended]
        if (promo.control is not None and promo.control not in advised) or not advised:
            out.append(
                doc.problem(
                    ["require", i],
                    "invalid",
                    f"check {promo.check!r} is not recommended for "
                    + (f"control {promo.control!r}" if promo.control else "any control")
                    + " in the mapping, so there is nothing to require",
                )
            )
    for key in ("include", "exclude"):
        for i, sel in enumerate(getattr(profile, key)):
            if sel.check is not None and sel.check not in cat.checks:
                hint = did_you_mean(sel.check, cat.checks)
                out.append(
                    doc.problem(
                        [key, i, "check"], "unknown-id", f"unknown check {sel.check!r}{hint}"
                    )
                )
            if sel.control is not None and sel.control not in fw.controls:
                hint = did_you_mean(sel.control, fw.controls, close=False)
                out.append(
                    doc.problem(
                        [key, i, "control"], "unknown-id", f"unknown control {sel.control!r}{hint}"
                    )
                )
    for i, na in enumerate(profile.not_applicable):
        if na.control not in fw.controls:
            hint = did_you_mean(na.control, fw.controls, close=False)
            out.append(
                doc.problem(
                    ["not_applicable", i, "control"],
                    "unknown-id",
                    f"unknown control {na.control!r}{hint}",
                )
            )
    registry = probes()
    for check_id, values in profile.params.items():
        check = cat.checks.get(check_id)
        if check is None:
            hint = did_you_mean(check_id, cat.checks)
            out.append(
                doc.problem(
                    ["params", check_id],
                    "unknown-id",
                    f"unknown check {check_id!r}{hint}",
                    key=True,
                )
            )
            continue
        if check.probe in registry:
            merged = {**check.params, **values}
            out.extend(
                params_problems(doc, ["params", check_id], merged, registry[check.probe].params)
            )
    return out
