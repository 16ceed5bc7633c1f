"""GRIP's inventory checks (O5 devices, O6 applications, O16 classification) on the exports
schools really have: Intune's device export, Dutch headers, the classification words of O16."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from cyberstd.catalog import Catalog
from cyberstd.exports import ExportFile, ExportStore
from cyberstd.kinds import ExportKind, header_key, normalise
from cyberstd.parsers.base import Node
from cyberstd.results import FindingStatus
from cyberstd.rules.engine import Verdict
from tests.conftest import REPO
from tests.rules.conftest import check_params, parse_csv, run_check

CORPUS = REPO / "tests" / "data" / "realworld"
INTUNE = CORPUS / "intune" / "all-devices-export.csv"
P, F, NA = FindingStatus.PASS, FindingStatus.FAIL, FindingStatus.NOT_APPLICABLE


def _tree(catalog: Catalog, kind: str, text: str, name: str = "inventaris.csv") -> Node:
    return normalise(catalog.kinds[kind], parse_csv(text, name))


def _judge(catalog: Catalog, check: str, *trees: Node) -> Verdict:
    kind = check_params(catalog, check).kind
    return run_check(catalog, check, {kind: list(trees)} if trees else {})


def _read(catalog: Catalog, path: Path, kind: str) -> Node:
    parsed = ExportStore(catalog.kinds).parsed(ExportFile(path, path.name, kind))
    assert parsed.tree is not None, parsed.error
    return parsed.tree


# --- the column names of a kind ---------------------------------------------------------------


def test_headers_compare_without_case_accents_spaces_or_punctuation() -> None:
    keys = {header_key(h) for h in ("IP-adres", "ip adres", "ip_adres", "IP Adres", " ipadres ")}
    assert keys == {"ipadres"}
    assert header_key("Catégorie") == header_key("categorie")
    assert header_key("Toestel/Naam") == "toestelnaam"


def test_the_intune_export_read_as_a_device_inventory(catalog: Catalog) -> None:
    """Intune's admin center export (Devices > All devices > Export) under the names the rules
    use: each name points at the header it was read from, at the header's line."""
    tree = _read(catalog, INTUNE, "device-inventory")
    fields = tree.get("fields")
    assert fields is not None
    assert fields.plain() == {
        "hostname": "Device name",
        "ip": "WiFiIPv4Address",
        "mac": "Wi-Fi MAC",
        "mac_wired": "EthernetMAC",
        "type": "OS",
        "owner": "Primary user UPN",
        "serial": "Serial number",
        "last_seen": "Last check-in",
    }
    assert {n.line for n in fields.value.values()} == {1}
    first = tree.plain()["rows"][0]
    assert first["hostname"] == first["Device name"] == "LKR-LT-0412"
    assert first["type"] == "Windows" and first["owner"] == "an.declercq@hhi-waterdonk.test"
    # the alias is the cell itself: evidence keeps the file and line of the original
    rows = tree.get("rows")
    assert rows is not None
    assert rows.value[0].get("hostname") is rows.value[0].get("Device name")


def test_the_first_header_listed_wins(catalog: Catalog) -> None:
    tree = _tree(catalog, "device-inventory", "Naam;Toestel;Model;Type\nx;PC-01;Dell;laptop\n")
    assert tree.plain()["fields"] == {"hostname": "Toestel", "type": "Type"}


def test_an_inventory_without_a_name_column_is_refused_naming_what_it_reads(
    catalog: Catalog, tmp_path: Path
) -> None:
    path = tmp_path / "inventaris.csv"
    path.write_text("Type;Lokaal\nlaptop;B1.02\n", encoding="utf-8")
    parsed = ExportStore(catalog.kinds).parsed(
        ExportFile(path, "inventaris.csv", "device-inventory")
    )
    assert parsed.tree is None and parsed.error is not None
    assert "lacks column 'hostname' (or one of: hostnaam, Device name, toestelnaam" in str(
        parsed.error
    )


def test_a_header_listed_for_two_names_is_refused() -> None:
    with pytest.raises(ValidationError, match="'Lokaal' is listed for both 'location' and 'room'"):
        ExportKind.model_validate(
            {
                "id": "k",
                "format": "csv",
                "title": {"nl": "k", "en": "k"},
                "column_names": {"location": ["locatie", "lokaal"], "room": ["Lokaal"]},
            }
        )
    with pytest.raises(ValidationError, match="use lowercase letters"):
        ExportKind.model_validate(
            {
                "id": "k",
                "format": "csv",
                "title": {"nl": "k", "en": "k"},
                "column_names": {"Last seen": ["x"]},
            }
        )


# --- inventory.devices-columns (O5) -------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Toestel;Type;Serienummer;Merk/Model;Eigenaar/Gebruiker;Locatie/Lokaal;Leverancier;Laatst bijgewerkt",
        "Naam;Soort;Lokaal",  # a location is enough
        "hostnaam;besturingssysteem;gebruiker",  # a user is enough
        "computernaam;Merk/Model;klas",
    ],
)
def test_devices_columns_accepts_dutch_headers(catalog: Catalog, header: str) -> None:
    cells = ";".join("x" for _ in header.split(";"))
    v = _judge(
        catalog,
        "inventory.devices-columns",
        _tree(catalog, "device-inventory", f"{header}\n{cells}\n"),
    )
    assert v.status is P, v.message


def test_devices_columns_accepts_the_intune_export(catalog: Catalog) -> None:
    v = _judge(catalog, "inventory.devices-columns", _read(catalog, INTUNE, "device-inventory"))
    assert v.status is P, v.message
    # classification is O16's, not O5's: the Intune export has none and still passes here
    assert "classification" not in v.message


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("Toestel;Eigenaar;Lokaal", "kind of device"),
        ("Toestel;Type;Serienummer;Leverancier", "user or the location"),
    ],
)
def test_devices_columns_refuses_an_inventory_without_type_or_user_and_location(
    catalog: Catalog, header: str, missing: str
) -> None:
    cells = ";".join("x" for _ in header.split(";"))
    good = _tree(catalog, "device-inventory", "hostname;type;owner\nPC-01;pc;ICT\n", "goed.csv")
    bad = _tree(catalog, "device-inventory", f"{header}\n{cells}\n", "printers.csv")
    v = _judge(catalog, "inventory.devices-columns", good, bad)  # one inventory lacks it
    assert v.status is F
    assert missing in v.message and v.message.endswith("are expected: printers.csv:1")


def test_devices_columns_without_an_inventory_is_not_assessed(catalog: Catalog) -> None:
    v = _judge(catalog, "inventory.devices-columns")
    assert v.status is NA and "no export of kind device-inventory" in v.message


# --- inventory.applications-columns (O6) --------------------------------------------------------

APPS = (
    "Toepassing;Eigenaar;Leverancier;Soort gegevens\n"
    "Smartschool;ICT-coördinator;Smartschool NV;punten\n"
    "Bingel;;VAN IN;oefenresultaten\n"
    "Kahoot!;leerkrachten;;quizscores\n"
)


def test_applications_columns_accepts_dutch_headers(catalog: Catalog) -> None:
    text = "\n".join(APPS.splitlines()[:2]) + "\n"
    v = _judge(
        catalog, "inventory.applications-columns", _tree(catalog, "application-inventory", text)
    )
    assert v.status is P, v.message


def test_applications_columns_names_each_application_with_a_gap(catalog: Catalog) -> None:
    v = _judge(
        catalog, "inventory.applications-columns", _tree(catalog, "application-inventory", APPS)
    )
    assert v.status is F
    owner, supplier = (p for p in v.evidence["all_of"] if p["status"] == "fail")
    assert [(it["label"], it["line"]) for it in owner["items"]] == [("Bingel", 3)]
    assert [(it["label"], it["line"]) for it in supplier["items"]] == [("Kahoot!", 4)]


def test_applications_columns_without_a_kind_of_data_column_fails(catalog: Catalog) -> None:
    text = "Applicatie;Verantwoordelijke;Verwerker\nInformat;secretariaat;Informat NV\n"
    v = _judge(
        catalog, "inventory.applications-columns", _tree(catalog, "application-inventory", text)
    )
    assert v.status is F
    assert "applications without the kind of data they hold" in v.message
    assert "toepassingen zonder soort gegevens" in v.message_nl


def test_applications_columns_on_an_empty_list_is_not_assessed(catalog: Catalog) -> None:
    header_only = _tree(catalog, "application-inventory", APPS.splitlines()[0] + "\n")
    v = _judge(catalog, "inventory.applications-columns", header_only)
    assert v.status is NA and "holds none of the items" in v.message
    assert _judge(catalog, "inventory.applications-columns").status is NA


# --- inventory.devices-classified / applications-classified (O16) --------------------------------

WORDS = [
    "publiek", "openbaar", "intern", "vertrouwelijk", "zeer gevoelig", "Zeer Gevoelig",
    "zéér gevoelig", "ZEER VERTROUWELIJK", "geheim", "public", "Internal", "confidential",
    "highly confidential", "Highly Sensitive", "secret",
]  # fmt: skip


@pytest.mark.parametrize(
    ("check", "kind", "header"),
    [
        ("inventory.devices-classified", "device-inventory", "Toestel;Classificatie"),
        ("inventory.applications-classified", "application-inventory", "Toepassing;Classificatie"),
    ],
)
def test_classified_accepts_o16s_words_in_dutch_and_english(
    catalog: Catalog, check: str, kind: str, header: str
) -> None:
    rows = "".join(f"item-{i};{word}\n" for i, word in enumerate(WORDS))
    v = _judge(catalog, check, _tree(catalog, kind, f"{header}\n{rows}"))
    assert v.status is P, v.message


@pytest.mark.parametrize(
    ("check", "kind", "header", "noun"),
    [
        ("inventory.devices-classified", "device-inventory", "hostnaam;classificatie", "devices"),
        (
            "inventory.applications-classified",
            "application-inventory",
            "applicatie;gevoeligheid",
            "applications",
        ),
    ],
)
def test_classified_names_the_gap_and_the_unknown_word(
    catalog: Catalog, check: str, kind: str, header: str, noun: str
) -> None:
    text = f"{header}\nA;intern\nB;\nC;hoog\nD;Vertrouwelijk\n"
    v = _judge(catalog, check, _tree(catalog, kind, text))
    assert v.status is F
    gap, unknown = v.evidence["all_of"]
    assert [it["label"] for it in gap["items"]] == ["B"]
    assert [it["label"] for it in unknown["items"]] == ["C"]
    assert f"1 {noun} without a classification" in v.message
    assert v.message.endswith("not in the scheme (public, internal, confidential, highly "
                              "sensitive), where at most 0 are expected: C ('hoog')")  # fmt: skip
    assert "C ('hoog')" in v.message_nl and "niet in het schema staat" in v.message_nl


def test_classified_without_a_classification_column_fails_on_every_device(
    catalog: Catalog,
) -> None:
    """O16 asks the classification in the inventory itself: Intune's export, given as the
    device inventory, has none."""
    v = _judge(catalog, "inventory.devices-classified", _read(catalog, INTUNE, "device-inventory"))
    assert v.status is F
    assert "13 devices without a classification (an empty cell, or no classification column)" in (
        v.message
    )


@pytest.mark.parametrize(
    "check", ["inventory.devices-classified", "inventory.applications-classified"]
)
def test_classified_without_items_is_not_assessed(catalog: Catalog, check: str) -> None:
    kind = check_params(catalog, check).kind
    header = (
        "Toestel;Classificatie\n" if kind == "device-inventory" else "Toepassing;Classificatie\n"
    )
    v = _judge(catalog, check, _tree(catalog, kind, header))
    assert v.status is NA and "holds none of the items" in v.message
    assert _judge(catalog, check).status is NA
