"""Backup software's own session histories (tests/data/realworld/backup/SOURCES.md): Veeam's
sessions, Hyper Backup's lines in DSM's Log Center, Active Backup for Business's task history.
Each is read per job; what a history cannot show (where copies go) is not judged."""

from __future__ import annotations

from cyberstd.results import FindingStatus

P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE

EXPECTED: dict[str, tuple[str, dict[str, tuple[FindingStatus, str]]]] = {
    "backup/veeam-job-report.csv": ("veeam-sessions", {
        # failed every night since 27/11 (with retries); the other two succeeded on 4/12
        "backup.recent-success": (F, "where at most 0 are expected: HV - Bestandsserver FS01 "
                                     "('2026-11-26 22:30:12')"),
        "backup.offsite-or-immutable": (NA, "not judged: 3 Veeam jobs"),
        "backup.restore-tested": (NA, "is not set in backup/veeam-job-report.csv"),
    }),
    "backup/synology-hyper-backup.csv": ("synology-hyper-backup", {
        # the USB disk is gone since 29/11; Offsite-C2 succeeded on 4/12
        "backup.recent-success": (F, "where at most 0 are expected: USB-Kopie "
                                     "('2026-11-28 01:52:21')"),
        "backup.offsite-or-immutable": (NA, "which data they hold"),
        "backup.restore-tested": (NA, "is not set in backup/synology-hyper-backup.csv"),
    }),
    "backup/synology-active-backup-history.json": ("synology-active-backup", {
        # the management laptop fails (and was cancelled once) since 26/11; a partially
        # completed run of PC-Secretariaat on 3/12 is followed by a success on 4/12
        "backup.recent-success": (F, "where at most 0 are expected: PC-Directie "
                                     "('2026-11-25 12:51:00')"),
        "backup.offsite-or-immutable": (NA, "not judged: 3 Active Backup tasks"),
        # a file restore of FS01-Leerlingendata on 14/10/2026
        "backup.restore-tested": (P, "'2026-10-14 15:16:00'"),
    }),
}  # fmt: skip
