"""FITS output: astropy is the oracle for every file `write_fits` makes.

Files are built in real `SharedPayload`s (memfds) and read back with astropy; the data
section is also compared byte-for-byte with an independent numpy computation of the FITS
encoding (big-endian, value - 32768 for BITPIX 16).
"""
from __future__ import annotations

import io
import logging
import warnings
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from astropy.io import fits as afits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from indi_playerone.ccd.fits import (
    FitsContext,
    build_header,
    fits_cards,
    fits_size,
    format_date_obs,
    parse_fits_header_record,
    write_fits,
)
from indi_playerone.indi.payload import SharedPayload

T0 = datetime(2024, 3, 9, 21, 5, 7, 123999, tzinfo=timezone.utc)


def ctx(**kw) -> FitsContext:
    base = dict(
        instrument="PlayerOne CCD Poseidon-M PRO",
        exposure_s=2.5,
        date_obs=T0,
        frame_type="Light",
        pixel_size_um=(3.76, 3.76),
        binning=(1, 1),
    )
    base.update(kw)
    return FitsContext(**base)


def read_back(payload: SharedPayload) -> tuple[afits.Header, np.ndarray]:
    """Parse with astropy, failing on any astropy warning (a malformed card warns)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with afits.open(io.BytesIO(bytes(payload.view)), mode="readonly") as hdul:
            hdul.verify("exception")
            assert len(hdul) == 1
            return hdul[0].header.copy(), hdul[0].data.copy()


def expected_data_bytes(data: np.ndarray) -> bytes:
    if data.dtype == np.uint16:
        return (data.astype(np.int32) - 32768).astype(">i2").tobytes()
    return data.tobytes()


def check_file(payload: SharedPayload, data: np.ndarray, cards) -> afits.Header:
    bits = 16 if data.dtype == np.uint16 else 8
    size = fits_size(data.shape, bits, cards)
    assert payload.size == size == len(payload.view)
    assert size % 2880 == 0
    hlen = len(build_header(data.shape, bits, cards))
    raw = bytes(payload.view)
    body = expected_data_bytes(data)
    assert raw[hlen : hlen + len(body)] == body
    assert raw[hlen + len(body) :] == bytes(size - hlen - len(body))  # zero padding
    assert raw[:hlen].rstrip(b" ").endswith(b"END")
    header, back = read_back(payload)
    assert header["BITPIX"] == bits
    assert header["NAXIS"] == data.ndim
    assert tuple(header[f"NAXIS{i}"] for i in range(1, data.ndim + 1)) == data.shape[::-1]
    if bits == 16:
        assert header["BZERO"] == 32768 and header["BSCALE"] == 1
    else:
        assert "BZERO" not in header and "BSCALE" not in header
    assert back.dtype == data.dtype
    np.testing.assert_array_equal(back, data)
    return header


# ---------------------------------------------------------------- data round trips

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.uint16, np.uint8]),
        shape=hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=67),
    )
)
def test_data_round_trip_bit_for_bit(data: np.ndarray) -> None:
    cards = fits_cards(ctx())
    with write_fits(data, cards) as payload:
        check_file(payload, data, cards)


@pytest.mark.parametrize("dtype", [np.uint16, np.uint8])
@pytest.mark.parametrize("shape", [(1, 1), (1, 2881), (3, 7), (1441, 1)])
def test_edge_shapes_and_extreme_values(dtype, shape) -> None:
    info = np.iinfo(dtype)
    data = np.full(shape, info.max, dtype=dtype)
    data.flat[0] = 0
    data.flat[-1] = info.max // 2 + 1  # 32768 encodes as 0x0000 in BITPIX 16
    cards = fits_cards(ctx())
    with write_fits(data, cards) as payload:
        check_file(payload, data, cards)


def test_strided_roi_view_is_written_row_by_row() -> None:
    full = np.arange(40 * 50, dtype=np.uint16).reshape(40, 50) * 31
    roi = full[3:29, 7:40]  # rows contiguous, frame not
    assert not roi.flags.c_contiguous
    cards = fits_cards(ctx())
    with write_fits(roi, cards) as payload:
        check_file(payload, roi, cards)


@pytest.mark.parametrize("dtype", [np.uint16, np.uint8])
def test_dirty_payload_gets_zero_padding(dtype) -> None:
    """A recycled buffer full of garbage: every byte of the file must still be written."""
    def dirty(n: int) -> SharedPayload:
        p = SharedPayload.allocate(n)
        p.view[:] = b"\xa5" * n
        return p

    data = np.arange(7 * 5, dtype=dtype).reshape(7, 5)
    cards = fits_cards(ctx())
    with write_fits(data, cards, dirty) as payload:
        check_file(payload, data, cards)


def test_non_contiguous_rows_are_refused() -> None:
    full = np.zeros((4, 8), dtype=np.uint16)
    with pytest.raises(ValueError, match="contiguous"):
        write_fits(full[:, ::2], fits_cards(ctx()))


@pytest.mark.parametrize("dtype", [np.float32, np.int16, np.uint32, np.dtype(">u2")])
def test_unsupported_dtypes_are_refused(dtype) -> None:
    with pytest.raises(TypeError):
        write_fits(np.zeros((2, 2), dtype=dtype), [])


def test_rgb_planes_and_bayer_dropped_for_3d() -> None:
    data = np.random.default_rng(3).integers(0, 256, size=(3, 5, 9), dtype=np.uint8)
    cards = fits_cards(ctx(bayer=("RGGB", 1, 0)))
    with write_fits(data, cards) as payload:
        header = check_file(payload, data, cards)
    assert header["NAXIS3"] == 3
    for key in ("BAYERPAT", "XBAYROFF", "YBAYROFF"):
        assert key not in header


def test_payload_is_closed_when_writing_fails() -> None:
    made: list[SharedPayload] = []

    def short(n: int) -> SharedPayload:
        made.append(SharedPayload.allocate(n - 1))
        return made[-1]

    with pytest.raises(ValueError, match="payload has"):
        write_fits(np.zeros((3, 3), np.uint16), fits_cards(ctx()), short)
    assert made and made[0].closed


def test_payload_can_be_unmapped_right_after_write(caplog) -> None:
    """write_fits must not leave exports of the view alive (close would defer the unmap)."""
    caplog.set_level(logging.DEBUG, logger="indi_playerone.indi.payload")
    for dtype in (np.uint8, np.uint16):
        payload = write_fits(np.ones((4, 4), dtype), fits_cards(ctx()))
        payload.close()
        with pytest.raises(ValueError):
            payload.view[0]  # released memoryview
    assert not [r for r in caplog.records if "still exported" in r.getMessage()]


# ---------------------------------------------------------------- keywords

def test_all_keywords_colour_dark_frame() -> None:
    c = ctx(
        frame_type="Dark",
        exposure_s=123.4567891,
        binning=(2, 3),
        pixel_size_um=(3.76, 2.9),
        gain=120,
        offset=12.5,
        ccd_temp_c=-10.04449,
        telescope="EQMod Mount",
        bayer=("GRBG", 1, 0),
        focal_length_mm=530.0,
        aperture_mm=106.0,
        date_obs=datetime(2024, 3, 9, 23, 5, 7, 9999, tzinfo=timezone(timedelta(hours=2))),
    )
    cards = fits_cards(c)
    data = np.zeros((4, 6), np.uint16)
    with write_fits(data, cards) as payload:
        h = check_file(payload, data, cards)
    expected = {
        "ROWORDER": "TOP-DOWN",
        "INSTRUME": "PlayerOne CCD Poseidon-M PRO",
        "TELESCOP": "EQMod Mount",
        "EXPTIME": 123.4568,  # cfitsio %.6E rounding: 7 significant digits
        "DARKTIME": 123.4568,
        "CCD-TEMP": -10.04,  # %.3E
        "PIXSIZE1": 3.76,
        "PIXSIZE2": 2.9,
        "XBINNING": 2,
        "YBINNING": 3,
        "XPIXSZ": 7.52,
        "YPIXSZ": 8.7,
        "FRAME": "Dark",
        "IMAGETYP": "Dark Frame",
        "XBAYROFF": 1,
        "YBAYROFF": 0,
        "BAYERPAT": "GRBG",
        "FOCALLEN": 530.0,
        "APTDIA": 106.0,
        "SCALE": float(f"{3.76 / 530.0 * 206.3 * 2:.6E}"),
        "DATE-OBS": "2024-03-09T21:05:07.009",
        "GAIN": 120.0,
        "OFFSET": 12.5,
    }
    for key, value in expected.items():
        assert key in h, key
        assert type(h[key]) is type(value), (key, h[key])
        if isinstance(value, float):
            assert h[key] == pytest.approx(value, rel=1e-12), key
        else:
            assert h[key] == value, key
    assert h.comments["EXPTIME"] == "Total Exposure Time (s)"
    assert h.comments["INSTRUME"] == "CCD Name"
    assert h.comments["SCALE"] == "arcsecs per pixel"
    assert "Generated by INDI" in [str(v) for v in h["COMMENT"]]
    keys = [k for k in h.keys() if k in expected]
    assert keys == list(expected)  # §4.6 order


def test_minimal_mono_light_frame_omits_optional_keywords() -> None:
    cards = fits_cards(ctx(telescope="", focal_length_mm=0, aperture_mm=None))
    keys = [k for k, _, _ in cards]
    for absent in ("TELESCOP", "DARKTIME", "CCD-TEMP", "BAYERPAT", "XBAYROFF", "FOCALLEN",
                   "APTDIA", "SCALE", "GAIN", "OFFSET"):
        assert absent not in keys
    assert keys[:2] == ["ROWORDER", "INSTRUME"]
    assert "DATE-OBS" in keys


@pytest.mark.parametrize("frame", ["Light", "Bias", "Flat", "Dark"])
def test_frame_types(frame) -> None:
    d = {k: v for k, v, _ in fits_cards(ctx(frame_type=frame))}
    assert d["FRAME"] == frame and d["IMAGETYP"] == f"{frame} Frame"
    assert ("DARKTIME" in d) == (frame == "Dark")


def test_bad_frame_type() -> None:
    with pytest.raises(ValueError, match="frame_type"):
        fits_cards(ctx(frame_type="light"))


def test_date_obs_format() -> None:
    assert format_date_obs(datetime(2024, 1, 2, 3, 4, 5, 999999)) == "2024-01-02T03:04:05.999"
    east = timezone(timedelta(hours=5, minutes=30))
    assert format_date_obs(datetime(2024, 1, 1, 2, 0, 0, 1000, tzinfo=east)) == "2023-12-31T20:30:00.001"


def test_custom_records_order_and_update_in_place() -> None:
    custom = [
        parse_fits_header_record("object", "M 31", "Object name"),
        parse_fits_header_record("TELESCOP", "My Newt", ""),
        parse_fits_header_record("EXPTIME", "9", "overridden"),
        parse_fits_header_record("OBJECT", "M 33", ""),
        parse_fits_header_record("comment", "first note", ""),
        parse_fits_header_record("COMMENT", "second note", ""),
    ]
    cards = fits_cards(ctx(telescope="Scope", gain=5, offset=6, custom=custom))
    keys = [k for k, _, _ in cards]
    assert keys.count("TELESCOP") == 1 and keys.count("OBJECT") == 1 and keys.count("EXPTIME") == 1
    d = {k: (v, c) for k, v, c in cards if k != "COMMENT"}
    assert d["TELESCOP"] == ("My Newt", "Telescope name")  # old comment kept
    assert d["EXPTIME"] == (9, "overridden")
    assert d["OBJECT"] == ("M 33", "Object name")
    i = keys.index("DATE-OBS")
    assert keys[i + 1 : i + 4] == ["OBJECT", "COMMENT", "COMMENT"]
    assert keys[-3:] == ["COMMENT", "GAIN", "OFFSET"]  # "Generated by INDI", then PlayerOne's
    with write_fits(np.zeros((2, 2), np.uint8), cards) as payload:
        h, _ = read_back(payload)
    assert list(h["COMMENT"]) == ["first note", "second note", "Generated by INDI"]
    assert h["OBJECT"] == "M 33"


def test_many_custom_records_make_a_multi_block_header() -> None:
    custom = [parse_fits_header_record(f"K{i}", str(i), "x" * 40) for i in range(40)]
    cards = fits_cards(ctx(custom=custom))
    data = np.arange(6, dtype=np.uint16).reshape(2, 3)
    assert len(build_header(data.shape, 16, cards)) == 2 * 2880
    with write_fits(data, cards) as payload:
        h = check_file(payload, data, cards)
    assert all(h[f"K{i}"] == i for i in range(40))


def test_long_comments_are_cut_to_fit_without_warning() -> None:
    custom = [parse_fits_header_record("LONGSTR", "v" * 68, "comment that cannot fit"),
              parse_fits_header_record("NUM", "1", "c" * 100)]
    cards = fits_cards(ctx(instrument="I" * 60, custom=custom))
    with write_fits(np.zeros((1, 1), np.uint8), cards) as payload:
        h, _ = read_back(payload)  # fails on any VerifyWarning
    assert h["LONGSTR"] == "v" * 68
    assert h.comments["NUM"] == "c" * (80 - 30 - 3)
    assert h["INSTRUME"] == "I" * 60


def test_layout_keywords_in_cards_are_refused() -> None:
    with pytest.raises(ValueError, match="layout"):
        write_fits(np.zeros((2, 2), np.uint8), [("NAXIS1", 5, "")])


# ---------------------------------------------------------------- FITS_HEADER parsing

@pytest.mark.parametrize(
    "raw, typed",
    [
        ("42", 42), ("-7", -7), ("+3", 3), (" 12 ", 12), ("0", 0),
        ("1.5", 1.5), ("-.5", -0.5), ("1e3", 1000.0), ("2.", 2.0), ("6.02E+23", 6.02e23),
        ("M 31", "M 31"), ("nan", "nan"), ("inf", "inf"), ("1_000", "1_000"), ("0x10", "0x10"),
        ("", ""), ("1e999", "1e999"), ("99999999999999999999", 1e20),
    ],
)
def test_value_typing(raw, typed) -> None:
    key, value, comment = parse_fits_header_record("obsval", raw, "a comment")
    assert key == "OBSVAL" and comment == "a comment"
    assert type(value) is type(typed) and value == typed


@pytest.mark.parametrize("key", ["object", " Object ", "A", "DATE-LOC", "MY_KEY", "12345678"])
def test_valid_keys(key) -> None:
    assert parse_fits_header_record(key, "x", "")[0] == key.strip().upper()


@pytest.mark.parametrize(
    "key",
    ["", "   ", "TOOLONGKEY", "A B", "KEY\x00", "Ké", "K.Y", "K/Y", "K'Y", "INDI_CLEAR",
     "BITPIX", "naxis", "NAXIS1", "NAXIS3", "BZERO", "bscale", "SIMPLE", "END", "EXTEND",
     "XTENSION", "CONTINUE"],
)
def test_invalid_keys(key) -> None:
    with pytest.raises(ValueError):
        parse_fits_header_record(key, "x", "")


@pytest.mark.parametrize(
    "value",
    ["Ørsted", "\x1b[31mred", "line\nbreak", "tab\there", "nul\x00", "del\x7f", "v" * 69,
     "'" * 35, "a" + "'" * 34],
)
def test_hostile_values_refused(value) -> None:
    with pytest.raises(ValueError):
        parse_fits_header_record("OBJECT", value, "")


@pytest.mark.parametrize("comment", ["é", "a\nb", "\x00", "\x1b"])
def test_hostile_comments_refused(comment) -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        parse_fits_header_record("OBJECT", "x", comment)


@pytest.mark.parametrize("value", ["O'Neil", "'", "''", "'" * 34, "a'b'c", "x" * 68, "  lead", "\\ & < >"])
def test_quoted_strings_round_trip(value) -> None:
    rec = parse_fits_header_record("OBJECT", value, "it's a 'comment'")
    with write_fits(np.zeros((1, 1), np.uint8), fits_cards(ctx(custom=[rec]))) as payload:
        h, _ = read_back(payload)
    assert h["OBJECT"] == value
    comment = h.comments["OBJECT"]
    assert "it's a 'comment'".startswith(comment)
    if len(value) < 20:
        assert comment == "it's a 'comment'"


_ascii = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
_keys = st.one_of(st.text(max_size=10), st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True),
                  st.sampled_from(["COMMENT", "HISTORY", "naxis2", "OBJECT"]))
_values = st.one_of(st.text(max_size=80), _ascii, st.integers().map(str),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr))
ACCEPTED: list[int] = []


@settings(max_examples=300, deadline=None)
@given(key=_keys, value=_values, comment=st.one_of(_ascii, st.text(max_size=80)))
def test_any_record_is_refused_or_round_trips(key: str, value: str, comment: str) -> None:
    try:
        rec = parse_fits_header_record(key, value, comment)
    except ValueError:
        return
    ACCEPTED.append(1)
    k, v, _ = rec
    cards = [rec]
    with write_fits(np.zeros((1, 1), np.uint8), cards) as payload:
        h, _ = read_back(payload)
    if k in ("COMMENT", "HISTORY"):
        assert [str(x) for x in h[k]] == [v.rstrip()]
    elif isinstance(v, str):
        assert h[k] == v.rstrip()  # FITS: trailing blanks in strings are not significant
    else:
        assert type(h[k]) is type(v) and h[k] == v


def test_hypothesis_generated_accepted_records() -> None:
    """Guards the property test above against testing only refusals (runs after it)."""
    assert len(ACCEPTED) > 50
