"""Intune as Graph v1.0 returns it: managed devices, their Windows protection state (Defender)
and compliance policies with assignments, shaped like the Graph reference's examples
(microsoft-graph-docs-contrib, api-reference/v1.0: intune-devices-manageddevice,
intune-devices-windowsprotectionstate, intune-deviceconfig-windows10compliancepolicy),
with invented values."""

from __future__ import annotations

from typing import Any

SYSTEMS = ("Windows", "Windows", "Windows", "iOS", "Android", "macOS")


def make_devices(count: int) -> list[dict[str, Any]]:
    """Managed devices with every property Graph returns (a `$select` cuts them down)."""
    devices = []
    for i in range(count):
        system = SYSTEMS[i % len(SYSTEMS)]
        windows = system == "Windows"
        devices.append(
            {
                "id": f"d0000000-0000-4000-8000-{i:012d}",
                "userId": f"00000000-0000-4000-8000-{i:012d}",
                "deviceName": f"{'LKR' if windows else 'MOB'}-{i:03d}",
                "managedDeviceOwnerType": "company" if i % 7 else "personal",
                "enrolledDateTime": "2024-09-02T08:15:00Z",
                "lastSyncDateTime": f"2026-02-{1 + i % 27:02d}T07:45:12Z",
                "operatingSystem": system,
                "complianceState": "noncompliant" if i % 11 == 5 else "compliant",
                "jailBroken": "Unknown" if windows else "False",
                "managementAgent": "mdm" if i % 9 else "configurationManagerClientMdm",
                "osVersion": "10.0.22631.4890" if windows else "17.6.1",
                "easActivated": False,
                "azureADRegistered": True,
                "deviceEnrollmentType": "windowsAzureADJoin" if windows else "userEnrollment",
                "emailAddress": f"user{i}@sint-voorbeeld.be",
                "azureADDeviceId": f"a0000000-0000-4000-8000-{i:012d}",
                "deviceRegistrationState": "registered",
                "isSupervised": False,
                "isEncrypted": i % 13 != 4,
                "userPrincipalName": f"user{i}@sint-voorbeeld.be",
                "model": "Latitude 5440" if windows else "Generic",
                "manufacturer": "Dell Inc." if windows else "Generic",
                "imei": "",
                "complianceGracePeriodExpirationDateTime": "9999-12-31T23:59:59Z",
                "serialNumber": f"SN{i:08d}",
                "phoneNumber": "",
                "wiFiMacAddress": f"02005e10{i:04x}",
                "ethernetMacAddress": f"02005e20{i:04x}" if windows else None,
                "totalStorageSpaceInBytes": 255_999_082_496,
                "freeStorageSpaceInBytes": 101_334_056_960,
                "managedDeviceName": f"user{i}_Windows_{i}",
                "partnerReportedThreatState": "unknown",
            }
        )
    return devices


def protection_state(device: dict[str, Any], index: int) -> dict[str, Any] | None:
    """A Windows device's Defender status; None for one that never reported one."""
    if index % 10 == 9:
        return None
    weak = index % 8 == 2
    return {
        "@odata.type": "#microsoft.graph.windowsProtectionState",
        "id": device["id"],
        "malwareProtectionEnabled": True,
        "deviceState": "clean" if not weak else "fullScanPending",
        "realTimeProtectionEnabled": not weak,
        "networkInspectionSystemEnabled": True,
        "quickScanOverdue": False,
        "fullScanOverdue": weak,
        "signatureUpdateOverdue": weak,
        "rebootRequired": False,
        "fullScanRequired": False,
        "engineVersion": "1.1.24090.11",
        "signatureVersion": "1.419.162.0" if not weak else "1.401.23.0",
        "antiMalwareVersion": "4.18.24090.11",
        "lastQuickScanDateTime": "2026-02-27T12:03:11Z",
        "lastFullScanDateTime": "2026-01-15T19:40:02Z",
        "lastQuickScanSignatureVersion": "1.419.160.0",
        "lastFullScanSignatureVersion": "1.417.5.0",
        "lastReportedDateTime": "2026-02-28T06:12:40Z",
        "productStatus": "noStatus" if not weak else "avSignaturesOutOfDate",
        "isVirtualMachine": False,
        "tamperProtectionEnabled": True,
    }


_WINDOWS_POLICY: dict[str, Any] = {
    "@odata.type": "#microsoft.graph.windows10CompliancePolicy",
    "id": "c7a1e3b2-0001-4d5e-8f90-1a2b3c4d5e6f",
    "createdDateTime": "2024-08-20T09:00:00Z",
    "description": "Basis voor leerlingen- en personeelslaptops",
    "lastModifiedDateTime": "2025-09-01T10:30:00Z",
    "displayName": "Windows - basis",
    "version": 4,
    "passwordRequired": True,
    "passwordBlockSimple": True,
    "passwordRequiredToUnlockFromIdle": True,
    "passwordMinutesOfInactivityBeforeLock": 15,
    "passwordExpirationDays": None,
    "passwordMinimumLength": 8,
    "passwordMinimumCharacterSetCount": None,
    "passwordRequiredType": "deviceDefault",
    "passwordPreviousPasswordBlockCount": None,
    "requireHealthyDeviceReport": True,
    "osMinimumVersion": "10.0.19045",
    "osMaximumVersion": None,
    "mobileOsMinimumVersion": None,
    "mobileOsMaximumVersion": None,
    "earlyLaunchAntiMalwareDriverEnabled": False,
    "bitLockerEnabled": True,
    "secureBootEnabled": True,
    "codeIntegrityEnabled": True,
    "storageRequireEncryption": True,
    "activeFirewallRequired": True,
    "defenderEnabled": True,
    "defenderVersion": None,
    "signatureOutOfDate": True,
    "rtpEnabled": True,
    "antivirusRequired": True,
    "antiSpywareRequired": True,
    "deviceThreatProtectionEnabled": False,
    "deviceThreatProtectionRequiredSecurityLevel": "unavailable",
    "configurationManagerComplianceRequired": False,
    "tpmRequired": True,
    "validOperatingSystemBuildRanges": [],
    "assignments": [
        {
            "id": "c7a1e3b2-0001-4d5e-8f90-1a2b3c4d5e6f_adadadad-808e-44e2-905a-0b7873a8a531",
            "target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"},
        }
    ],
}

_IOS_POLICY: dict[str, Any] = {
    "@odata.type": "#microsoft.graph.iosCompliancePolicy",
    "id": "c7a1e3b2-0002-4d5e-8f90-1a2b3c4d5e6f",
    "createdDateTime": "2024-08-20T09:10:00Z",
    "description": None,
    "lastModifiedDateTime": "2024-08-20T09:10:00Z",
    "displayName": "iPads - toegangscode",
    "version": 1,
    "passcodeBlockSimple": True,
    "passcodeExpirationDays": None,
    "passcodeMinimumLength": 6,
    "passcodeMinutesOfInactivityBeforeLock": 5,
    "passcodePreviousPasscodeBlockCount": None,
    "passcodeMinimumCharacterSetCount": None,
    "passcodeRequiredType": "numeric",
    "passcodeRequired": True,
    "osMinimumVersion": "17.0",
    "osMaximumVersion": None,
    "securityBlockJailbrokenDevices": True,
    "deviceThreatProtectionEnabled": False,
    "deviceThreatProtectionRequiredSecurityLevel": "unavailable",
    "managedEmailProfileRequired": False,
    "assignments": [
        {
            "id": "c7a1e3b2-0002-4d5e-8f90-1a2b3c4d5e6f_5e1f9c0d-1111-4a2b-9c3d-4e5f6a7b8c9d",
            "target": {
                "@odata.type": "#microsoft.graph.groupAssignmentTarget",
                "groupId": "5e1f9c0d-1111-4a2b-9c3d-4e5f6a7b8c9d",
            },
        }
    ],
}

COMPLIANCE_POLICIES = [_WINDOWS_POLICY, _IOS_POLICY]
