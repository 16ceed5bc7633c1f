"""Intune's exports in the real-world corpus (tests/data/realworld/intune/SOURCES.md): the
verdict of every endpoint and compliance check that reads each file's kind, as the school's
real situation warrants. The files describe one tenant on 2026-12-05."""

from __future__ import annotations

from cyberstd.results import FindingStatus

P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE

# file -> (kind, {check: (verdict, words the message must hold)})
EXPECTED: dict[str, tuple[str, dict[str, tuple[FindingStatus, str]]]] = {
    "intune/all-devices-export.csv": ("intune-devices", {
        "endpoint.disk-encryption": (F, "LKR-LT-0418"),
        "endpoint.checked-in": (F, "LKR-LT-0377"),
        "endpoint.os-supported": (F, "LKR-LT-0377"),
        "endpoint.antimalware-on": (NA, "no 'Malware protection' column"),
        "endpoint.signatures-fresh": (NA, "no 'Signature last updated' column"),
    }),
    "intune/all-devices-semicolon.csv": ("intune-devices", {  # Excel in a Belgian locale
        "endpoint.disk-encryption": (F, "LKR-LT-0418"),
        "endpoint.checked-in": (F, "LKR-LT-0377"),
        "endpoint.antimalware-on": (NA, "not judged"),
    }),
    # The Antivirus agent status report: Windows devices only, no encryption, OS or check-in
    # (the checks on those do not read it). Real-time protection is off on the secretariat's PC.
    # LKR-LT-0377's overdue signatures date from its last report, 60 days ago: not a device in
    # use, which endpoint.checked-in reports from the All devices export or Graph.
    "intune/windows-devices-with-defender.csv": ("intune-defender-agents", {
        "endpoint.antimalware-on": (F, "1 of 9 Windows devices in the Defender report (11.1%), "
                                       "where at most 5% is expected: ADM-PC-SECR01"),
        "endpoint.signatures-fresh": (P, "0 of 8 Windows devices that reported to Defender in "
                                         "the last 30 days"),
    }),
    # Graph's managed devices of the same tenant, each Windows device with its Defender state.
    "intune/managed-devices-graph.json": ("intune-managed-devices", {
        "endpoint.disk-encryption": (F, "1 of 10 Windows and macOS devices (10%), where at most "
                                        "5% is expected: LKR-LT-0418"),
        "endpoint.antimalware-on": (F, "1 of 9 Windows devices (11.1%), where at most 5% is "
                                       "expected: ADM-PC-SECR01"),
        "endpoint.signatures-fresh": (P, "0 of 8 Windows devices that synced in the last 30 days"),
        "endpoint.os-supported": (F, "LKR-LT-0377"),
        "endpoint.checked-in": (F, "1 of 13 managed devices (7.7%), where at most 5% is "
                                   "expected: LKR-LT-0377"),
    }),
    # Compliance policies assigned to a group of staff devices only, and an unassigned pilot:
    # whether the group holds every laptop is for the school to attest.
    "intune/compliance-policies-graph.json": ("intune-compliance-policies", {
        "intune.compliance-encryption": (NA, "assigned to groups only: Windows 11 - basis "
                                             "(BitLocker, Defender), macOS - directie"),
        "intune.compliance-antimalware": (NA, "assigned to groups only: Windows 11 - basis "
                                              "(BitLocker, Defender). Whether those groups"),
    }),
}  # fmt: skip
# Given as the All devices export, the Defender report is refused, saying which kind it is.
REFUSED = {
    "intune/windows-devices-with-defender.csv": ("intune-devices", "kind intune-defender-agents"),
}
