"""The coupon registry (4.2.5, 4.8.5, 4.8.8): CSV import, lookup, and what the desk makes of it."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from bot.config import Settings
from bot.tickets.coupons import (
    DEFAULT_RENEW_URL,
    CouponImportError,
    CouponRecord,
    CouponRegistry,
    ImportReport,
    check_coupon,
    main_import,
    parse_date,
    renew_url,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "coupons"
PATTERN = Settings().coupon_pattern
HEADER = "coupon,customer,product,edition,support_until\n"
PRODUCT = "1С-Битрикс: Управление сайтом"


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[CouponRegistry]:
    reg = await CouponRegistry.open(tmp_path / "var" / "frontdesk.sqlite3")
    yield reg
    await reg.close()


def csv_file(tmp_path: Path, body: str, name: str = "coupons.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


async def test_good_rows_are_imported_and_found(registry: CouponRegistry) -> None:
    report = await registry.import_csv(FIXTURES / "good.csv", PATTERN)

    assert report == ImportReport(accepted=3, rejected=[])
    assert await registry.count() == 3
    assert await registry.lookup("ABCD-1234-EFGH") == CouponRecord(
        "ABCD-1234-EFGH", "ООО «Ромашка»", PRODUCT, "Бизнес", date(2030, 12, 31)
    )
    old = await registry.lookup("WXYZ-0001-AAAA")
    assert old is not None and old.support_until == date(2020, 1, 31)  # DD.MM.YYYY
    quoted = await registry.lookup("QQ-77-RR")
    # a quoted field keeps its comma; an empty product is the default one; aliases normalised
    assert quoted == CouponRecord(
        "QQ-77-RR", "Company, Ltd.", PRODUCT, "Малый бизнес", date(2031, 6, 15)
    )


async def test_each_malformed_row_is_reported_with_line_and_reason(
    registry: CouponRegistry,
) -> None:
    report = await registry.import_csv(FIXTURES / "malformed.csv", PATTERN)

    assert report.accepted == 2
    reasons = dict(report.rejected)
    assert list(reasons) == [3, 4, 5, 6, 7, 8, 10, 11]  # line 9 is blank: skipped silently
    assert reasons[3].startswith("bad date '2030-02-30'")
    assert reasons[4] == "empty coupon"
    assert "'not a coupon' does not match the configured coupon format" in reasons[5]
    assert reasons[6].startswith("unknown edition 'Премиум'")
    assert reasons[7] == "duplicate of line 2 (GOOD-0001-AAAA)"
    assert reasons[8].startswith("bad date '01/02/2030'")
    assert reasons[10] == "expected at least 5 fields, got 2"
    assert reasons[11] == "empty edition"
    # the first of the duplicates wins
    first = await registry.lookup("GOOD-0001-AAAA")
    assert first is not None and first.customer == "Клиент 1"
    assert await registry.lookup("GOOD-0011-KKKK") is not None


async def test_excel_file_with_bom_and_semicolons(registry: CouponRegistry) -> None:
    # Given what Excel writes in Russia: BOM, ";", CRLF, Russian headers, quoting, an extra column
    report = await registry.import_csv(FIXTURES / "excel_bom_semicolon.csv", PATTERN)

    assert report == ImportReport(accepted=2, rejected=[])
    record = await registry.lookup("EXCL-0001-AAAA")
    assert record == CouponRecord(
        "EXCL-0001-AAAA", 'ООО "Вектор; и партнёры"', PRODUCT, "Малый бизнес", date(2030, 12, 1)
    )


async def test_reimport_upserts(registry: CouponRegistry, tmp_path: Path) -> None:
    await registry.import_csv(FIXTURES / "good.csv", PATTERN)
    # When the operator imports a renewed coupon and a new one
    renewed = csv_file(
        tmp_path,
        f"WXYZ-0001-AAAA,ИП Иванов,{PRODUCT},Стандарт,2032-01-31\n"
        f"NEWW-0001-AAAA,Новый,{PRODUCT},Старт,2032-01-31\n",
    )
    report = await registry.import_csv(renewed, PATTERN)

    assert report.accepted == 2
    assert await registry.count() == 4
    record = await registry.lookup("wxyz-0001-aaaa")
    assert record is not None
    assert (record.edition, record.support_until) == ("Стандарт", date(2032, 1, 31))


@pytest.mark.parametrize("typed", ["abcd-1234-efgh", " ABCD - 1234-EFGH ", "ABCD–1234–EFGH"])
async def test_lookup_normalises_the_customers_coupon(
    registry: CouponRegistry, typed: str
) -> None:
    await registry.import_csv(FIXTURES / "good.csv", PATTERN)
    record = await registry.lookup(typed)
    assert record is not None and record.coupon == "ABCD-1234-EFGH"


async def test_lookup_of_unknown_or_empty_coupon(registry: CouponRegistry) -> None:
    await registry.import_csv(FIXTURES / "good.csv", PATTERN)
    assert await registry.lookup("NONE-0000-XXXX") is None
    assert await registry.lookup("  ") is None


async def test_lower_case_coupons_in_the_file_are_normalised(
    registry: CouponRegistry, tmp_path: Path
) -> None:
    path = csv_file(tmp_path, f"abcd-9999-zzzz,x,{PRODUCT},бизнес,2030-01-01\n")
    assert (await registry.import_csv(path, PATTERN)).accepted == 1
    assert await registry.lookup("ABCD-9999-ZZZZ") is not None


async def test_coupons_with_other_separators_are_stored_in_the_patterns_form(
    registry: CouponRegistry, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        f"SM6 NS ABCD12345,x,{PRODUCT},Эксперт,2030-01-01\n"
        f"sm6_ns_abcd12346,y,{PRODUCT},Первый сайт,2030-01-01\n"
        "SM6–NS–ABCD12347,z,1С-Битрикс24,Интернет-магазин + CRM,2030-01-01\n",
    )
    assert await registry.import_csv(path, PATTERN) == ImportReport(accepted=3, rejected=[])
    stored = [await registry.lookup(f"SM6-NS-ABCD1234{n}") for n in (5, 6, 7)]
    assert [r.edition if r else None for r in stored] == [
        "Эксперт",
        "Первый сайт",
        "Интернет-магазин + CRM",
    ]


async def test_a_custom_coupon_pattern_is_used(registry: CouponRegistry, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path, f"12345678,x,{PRODUCT},Старт,2030-01-01\nAB-CD,y,{PRODUCT},Старт,2030-01-01\n"
    )
    report = await registry.import_csv(path, r"\d{8}")
    assert report.accepted == 1
    assert [line for line, _ in report.rejected] == [3]


async def test_bad_utf8_rows_are_refused_not_the_file(
    registry: CouponRegistry, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        HEADER.encode()
        + f"GOOD-0001-AAAA,Клиент,{PRODUCT},Старт,2030-01-01\n".encode()
        + f"GOOD-0002-BBBB,Клиент,{PRODUCT},Старт,2030-01-01\n".encode("cp1251")
    )
    report = await registry.import_csv(path, PATTERN)
    assert report.accepted == 1
    assert report.rejected == [(3, "not valid UTF-8 (in Excel: save as «CSV UTF-8»)")]


async def test_multiline_quoted_field_keeps_physical_line_numbers(
    registry: CouponRegistry, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        f'GOOD-0001-AAAA,"ООО\nРомашка",{PRODUCT},Старт,2030-01-01\n'
        f"GOOD-0002-BBBB,x,{PRODUCT},Старт,bad\n",
    )
    report = await registry.import_csv(path, PATTERN)
    assert report.accepted == 1
    assert [line for line, _ in report.rejected] == [4]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("coupon,customer,edition\nX,Y,Z\n", r"lacks column\(s\) product, support_until"),
    ],
)
async def test_unusable_files_raise(
    registry: CouponRegistry, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CouponImportError, match=message):
        await registry.import_csv(path, PATTERN)
    with pytest.raises(CouponImportError, match="cannot read"):
        await registry.import_csv(tmp_path / "missing.csv", PATTERN)


async def test_a_failed_import_leaves_the_registry_unchanged(
    registry: CouponRegistry, tmp_path: Path
) -> None:
    await registry.import_csv(FIXTURES / "good.csv", PATTERN)
    path = csv_file(tmp_path, f"GOOD-0001-AAAA,x,{PRODUCT},Старт,2030-01-01\n")
    with pytest.raises(ValueError, match="boom"):
        await registry.import_csv(path, PATTERN, progress=_Exploding())
    assert await registry.count() == 3
    # and the connection is still usable
    assert (await registry.import_csv(path, PATTERN)).accepted == 1


class _Exploding(io.StringIO):
    def write(self, s: str) -> int:
        raise ValueError("boom")


async def test_progress_bar_reaches_100_percent(registry: CouponRegistry, tmp_path: Path) -> None:
    rows = "".join(f"BULK-{i:04d}-AAAA,c{i},{PRODUCT},Старт,2030-01-01\n" for i in range(12_000))
    path = csv_file(tmp_path, rows)
    progress = io.StringIO()
    report = await registry.import_csv(path, PATTERN, progress)
    assert report.accepted == 12_000
    out = progress.getvalue()
    assert "100%" in out and "12000 rows" in out and out.endswith("\n")


async def test_table_lives_in_the_desks_database(registry: CouponRegistry, tmp_path: Path) -> None:
    await registry.import_csv(FIXTURES / "good.csv", PATTERN)
    db = sqlite3.connect(tmp_path / "var" / "frontdesk.sqlite3")
    try:
        cols = [row[1] for row in db.execute("PRAGMA table_info(coupons)")]
        assert cols == ["coupon", "customer", "product", "edition", "support_until"]
    finally:
        db.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-12-31", date(2025, 12, 31)),
        ("31.12.2025", date(2025, 12, 31)),
        ("1.2.2025", date(2025, 2, 1)),
        (" 2025-01-05 ", date(2025, 1, 5)),
        ("2025-02-29", None),
        ("31/12/2025", None),
        ("20251231", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


# check_coupon ------------------------------------------------------------------------------------

TODAY = date(2025, 6, 10)
RECORD = CouponRecord("ABCD-1234-EFGH", "ООО «Ромашка»", PRODUCT, "Бизнес", date(2025, 12, 31))


def test_check_ok_prefills_edition_and_product() -> None:
    check = check_coupon(RECORD, TODAY, None)
    assert check.status == "ok"
    assert (check.edition, check.product, check.support_until) == (
        "Бизнес",
        PRODUCT,
        RECORD.support_until,
    )
    assert not check.edition_mismatch
    assert check.customer_ru == check.customer_en == ""
    assert "поддержка до 31.12.2025" in check.notes[0]


def test_check_ok_with_the_same_edition_in_other_words() -> None:
    check = check_coupon(RECORD, TODAY, "business")
    assert check.status == "ok" and not check.edition_mismatch
    assert check_coupon(RECORD, TODAY, "не знаю").edition_mismatch is False


def test_check_edition_mismatch_is_noted_for_the_agent() -> None:
    check = check_coupon(RECORD, TODAY, "старт")
    assert check.status == "ok"
    assert check.edition_mismatch
    assert "Редакция по реестру: Бизнес; клиент указал: Старт." in check.notes


def test_check_unknown_coupon() -> None:
    check = check_coupon(None, TODAY, "Старт", coupon="nope-0000-xxxx")
    assert check.status == "unknown"
    assert check.edition is None and check.product is None
    assert "NOPE-0000-XXXX не найден в реестре" in check.notes[0]
    assert "4.8.8" in check.notes[0]
    assert "не нашли этот купон" in check.customer_text("ru")
    assert "could not find this coupon" in check.customer_text("en")


def test_check_expired_explains_4_8_5_and_how_to_renew() -> None:
    check = check_coupon(RECORD, date(2026, 1, 1), "Бизнес", renew_url="https://renew.example/")
    assert check.status == "expired"
    assert check.edition == "Бизнес"
    assert "4.8.5" in check.customer_ru and "4.8.5" in check.customer_en
    assert "https://renew.example/" in check.customer_ru
    assert "https://renew.example/" in check.customer_en
    assert "закончился 31.12.2025" in check.customer_ru
    assert any("истёк 31.12.2025" in note for note in check.notes)


def test_check_last_day_of_support_is_still_ok_and_flagged() -> None:
    check = check_coupon(RECORD, RECORD.support_until, None)
    assert check.status == "ok"
    assert any("заканчивается через 0 дн." in note for note in check.notes)


def test_renew_url_setting_or_default() -> None:
    assert renew_url(Settings()) == getattr(Settings(), "renew_url", DEFAULT_RENEW_URL)

    class WithSetting:
        renew_url = "https://example.test/renew"

    assert renew_url(WithSetting()) == "https://example.test/renew"
    assert renew_url(object()) == DEFAULT_RENEW_URL
    assert DEFAULT_RENEW_URL == "https://готовый-сайт-для-бизнеса.рф/"


async def test_registry_check_is_silent_while_empty(registry: CouponRegistry) -> None:
    assert await registry.check("ABCD-1234-EFGH", TODAY, None) is None
    await registry.import_csv(FIXTURES / "good.csv", PATTERN)
    check = await registry.check("abcd-1234-efgh", TODAY, None)
    assert check is not None and check.status == "ok"
    missing = await registry.check("NONE-0000-XXXX", TODAY, None)
    assert missing is not None and missing.status == "unknown"


# the CLI body ------------------------------------------------------------------------------------


def test_main_import_prints_report(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main_import([str(FIXTURES / "malformed.csv")]) == 0
    out = capsys.readouterr().out
    assert "2 accepted, 8 rejected" in out
    assert "line 7: duplicate of line 2" in out
    assert settings.database_path.exists()


def test_main_import_exit_codes(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main_import([str(tmp_path / "missing.csv")]) == 1
    assert "cannot read" in capsys.readouterr().err
    only_bad = csv_file(tmp_path, f"X,x,{PRODUCT},Старт,2030-01-01\n", "bad.csv")
    assert main_import([str(only_bad)]) == 2
    db = tmp_path / "other.sqlite3"
    assert main_import([str(FIXTURES / "good.csv"), "--database", str(db)]) == 0
    assert db.exists()
