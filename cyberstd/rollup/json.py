"""group-results.json: the roll-up as it is, in a stable order.

Schools are sorted by id, each school's controls in the order of the group's controls (then any
other by id), its failed checks by id, the earlier runs from the oldest: two runs over the same
schools with the same outcome write the same file, whatever order the scans finished in.
"""

from __future__ import annotations

from cyberstd.groupresults import GroupResults, SchoolRow
from cyberstd.rollup.rows import control_order


def _ordered(row: SchoolRow, order: dict[str, int]) -> SchoolRow:
    controls = dict(
        sorted(row.controls.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    )
    return row.model_copy(update={"controls": controls, "failed_checks": sorted(row.failed_checks)})


def stable(group: GroupResults) -> GroupResults:
    """The roll-up in its stable order (a copy; `group` is left as it is)."""
    infos = sorted(group.controls, key=control_order)
    order = {c.id: i for i, c in enumerate(infos)}
    return group.model_copy(
        update={
            "controls": infos,
            "schools": [_ordered(s, order) for s in sorted(group.schools, key=lambda s: s.id)],
            "history": sorted(group.history, key=lambda r: (r.finished, r.id)),
        }
    )


def render_json(group: GroupResults) -> str:
    """The roll-up as JSON, in its stable order; values left out are the model's defaults."""
    return stable(group).model_dump_json(indent=2, exclude_none=True) + "\n"
