"""The ABI of the vendor SDK, checked by programs: our declarations against the vendor's header.

The checker (``tests/helpers/vendor_abi.py``) compiles one probe per header and architecture
(gcc for x86_64, aarch64-linux-gnu-gcc for the 64-bit Raspberry Pi OS, arm-linux-gnueabihf-gcc
for the 32-bit one) and compares what each compiler computed: every structure size, alignment,
field offset and field size, every enum value, and the calling-convention class and size of
every parameter of every function the binding resolves (``POA_SDK_FUNCS`` in
``native/src/sdk_internal.h``) and the simulated SDK declares. Nothing is run, so no emulator
is needed. The Python side (the enums of ``camera/sdk_types.py`` and the cffi module's
structures and constants) is compared with the vendor header's values as this machine's
compiler computed them.

The last tests change a copy of a header in tmp_path and show that the checker names the
change, and only on the architectures where it changes the layout.
"""
from __future__ import annotations

import enum
from pathlib import Path

import pytest

from helpers import vendor_abi, vendor_sdk
from helpers.vendor_abi import COMPILERS, check
from indi_playerone._native import ffi, lib
from indi_playerone.camera import sdk_types

ARCHES = tuple(COMPILERS)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("abi")


@pytest.fixture(scope="module")
def vendor_header() -> Path:
    return vendor_sdk.header()


@pytest.fixture(scope="module")
def host_values(workdir: Path, vendor_header: Path) -> dict[str, int]:
    """The vendor header's numbers as this machine's compiler (the one the cffi module and
    the C layer were built with) computes them."""
    return check("x86_64", workdir, vendor_header).vendor


@pytest.mark.parametrize("arch", ARCHES)
def test_our_declarations_match_the_vendor_header(arch: str, workdir: Path,
                                                  vendor_header: Path) -> None:
    res = check(arch, workdir, vendor_header)
    assert res.problems == [], "\n".join(res.problems)
    # A checker that compared nothing would pass too: the counts must cover every field of
    # every structure the binding declares (twice: binding and simulated SDK), every enum value
    # of the vendor header and every signature.
    binding = vendor_abi.binding_probe()[1]
    fields = sum(len(f) for f in binding.aggregates.values())
    # One declaration of the SDK's structures serves the binding and the simulated SDK.
    assert vendor_abi.parse(vendor_sdk.INTERNAL_HEADER).aggregates == {}
    assert vendor_abi.api_header() == vendor_sdk.SIM_HEADER
    vendor = vendor_abi.parse(vendor_header)
    enumerators = sum(len(e) for e in vendor.enums.values())
    assert set(binding.aggregates) == {"POACameraProperties", "POAConfigValue",
                                       "POAConfigAttributes", "POASensorModeInfo"}
    assert res.compared["offsetof"] == 2 * fields
    assert res.compared["enum"] >= enumerators + len(vendor_abi.BINDING_CONSTANTS)
    sim_functions = vendor_abi.parse(vendor_sdk.SIM_HEADER).functions
    assert res.compared["signature"] == (len(vendor_sdk.bound_functions()) + len(sim_functions)
                                         - len(res.undeclared))
    assert set(res.undeclared) <= set(sim_functions) - set(vendor.functions)
    print(f"\n{arch}: {res.compared} compared with the vendor header "
          f"(POACameraProperties {res.vendor['sizeof POACameraProperties']} bytes, "
          f"POAConfigAttributes {res.vendor['sizeof POAConfigAttributes']}, "
          f"long {res.vendor['sizeof type long']}, pointer {res.vendor['sizeof type void *']})")


def test_the_layout_differs_where_the_abi_does(workdir: Path, vendor_header: Path) -> None:
    """The probes really are per architecture: ``long`` and pointers are 4 bytes on armhf and
    the union of ``long`` and ``double`` is 8 bytes everywhere, so the structures keep one
    layout (``docs/upstream-facts.md`` section 2.3)."""
    x86, arm64, armhf = (check(a, workdir, vendor_header).vendor for a in ARCHES)
    assert (x86["sizeof type long"], arm64["sizeof type long"], armhf["sizeof type long"]) == (8, 8, 4)
    assert armhf["sizeof POAConfigValue.intValue"] == 4 and x86["sizeof POAConfigValue.intValue"] == 8
    for values in (x86, arm64, armhf):
        assert values["sizeof POACameraProperties"] == 992
        assert values["offsetof POACameraProperties.pixelSize"] == 312
        assert values["offsetof POACameraProperties.pID"] == 740
        assert values["sizeof POAConfigAttributes"] == 304
        assert values["sizeof POASensorModeInfo"] == 192


def _vendor_name(cls: type[enum.IntEnum], member: str) -> str:
    """The vendor header's name of a member of one of sdk_types' enums."""
    if cls is sdk_types.Err:
        return "POA_OK" if member == "OK" else f"POA_ERROR_{member}"
    prefix = {sdk_types.Config: "POA_", sdk_types.ImgFormat: "POA_", sdk_types.ValueType: "VAL_",
              sdk_types.CameraState: "STATE_"}[cls]
    return prefix + member


#: sdk_types' enums and the vendor enum each one mirrors.
PY_ENUMS = {sdk_types.Err: "POAErrors", sdk_types.Config: "POAConfig",
            sdk_types.ImgFormat: "POAImgFormat", sdk_types.ValueType: "POAValueType",
            sdk_types.CameraState: "POACameraState"}


def test_python_enums_equal_the_vendor_values(host_values: dict[str, int],
                                              vendor_header: Path) -> None:
    vendor = vendor_abi.parse(vendor_header)
    for cls, vendor_enum in PY_ENUMS.items():
        ours = {_vendor_name(cls, m.name): int(m) for m in cls}
        for name in vendor.enums[vendor_enum]:  # complete: every vendor value has a member
            assert name in ours, f"{cls.__name__} lacks {name}"
            assert ours[name] == host_values[f"enum {name}"], (cls.__name__, name)
        extra = set(ours) - set(vendor.enums[vendor_enum])
        for name in extra:  # newer than the vendor header: declared where, and in sequence
            assert name in vendor_abi.NEWER_ENUMERATORS, f"{cls.__name__}.{name} is in no vendor header"
            after = vendor_abi.NEWER_ENUMERATORS[name][1]
            assert ours[name] == host_values[f"enum {after}"] + 1, name
    for value, pattern in sdk_types.BAYER_NAMES.items():
        assert host_values[f"enum POA_BAYER_{pattern[:2]}"] == value, pattern
    assert host_values["enum POA_BAYER_MONO"] == -1  # sdk_types.CameraProps.bayer: -1 mono


#: The cffi module's structures (our fixed-width copies the C layer fills) and the vendor
#: field each of their fields carries; the vendor fields they leave out, and why.
CFFI_FIELDS = {
    "poa_sdk_camera_props_t": ("POACameraProperties", {
        "model": "cameraModelName", "custom_id": "userCustomID", "camera_id": "cameraID",
        "max_width": "maxWidth", "max_height": "maxHeight", "bit_depth": "bitDepth",
        "is_color": "isColorCamera", "has_st4": "isHasST4Port", "has_cooler": "isHasCooler",
        "usb3": "isUSB3Speed", "bayer": "bayerPattern", "pixel_size_um": "pixelSize",
        "serial": "SN", "sensor": "sensorModelName", "local_path": "localPath", "bins": "bins",
        "formats": "imgFormats", "supports_hard_bin": "isSupportHardBin", "product_id": "pID",
    }),
    "poa_sdk_config_attr_t": ("POAConfigAttributes", {
        "supports_auto": "isSupportAuto", "writable": "isWritable", "readable": "isReadable",
        "config_id": "configID", "value_type": "valueType", "name": "szConfName",
        "description": "szDescription",
    }),
    "poa_sdk_mode_info_t": ("POASensorModeInfo", {"name": "name", "description": "desc"}),
}
NOT_CARRIED = {
    "reserved": "reserved by the vendor",
    # the union, read by its value type into int64 and double pairs (min_int, min_float, ...)
    "maxValue": "typed pair", "minValue": "typed pair", "defaultValue": "typed pair",
}


def test_cffi_structures_hold_every_vendor_field(host_values: dict[str, int],
                                                 vendor_header: Path) -> None:
    """The structures Python reads (cffi) are our own fixed-width ones, filled by the C layer:
    each field must hold the vendor field it carries whole (a string as long as the vendor's,
    as many bins and formats), and every vendor field is carried or left out for a reason."""
    vendor = vendor_abi.parse(vendor_header)
    for ctype, (vendor_struct, mapping) in CFFI_FIELDS.items():
        fields = dict(ffi.typeof(ctype).fields)
        assert set(fields) >= set(mapping), (ctype, set(mapping) - set(fields))
        for ours, theirs in mapping.items():
            assert ffi.sizeof(fields[ours].type) == host_values[f"sizeof {vendor_struct}.{theirs}"], \
                f"{ctype}.{ours} ({ffi.sizeof(fields[ours].type)} bytes) cannot hold {vendor_struct}.{theirs}"
        left_out = set(vendor.aggregates[vendor_struct]) - set(mapping.values())
        assert left_out <= set(NOT_CARRIED), (vendor_struct, left_out - set(NOT_CARRIED))
    typed = dict(ffi.typeof("poa_sdk_config_attr_t").fields)
    for bound in ("min", "max", "default"):  # a C long fits in int64 on every architecture
        assert ffi.sizeof(typed[f"{bound}_int"].type) == 8 >= host_values["sizeof type long"]
        assert ffi.sizeof(typed[f"{bound}_float"].type) == host_values["sizeof POAConfigValue.floatValue"]


def test_cffi_constants_equal_the_vendor_values(host_values: dict[str, int]) -> None:
    """The constants Python passes to the C layer as SDK values, as the cffi module has them."""
    for vendor_name, ours in vendor_abi.BINDING_CONSTANTS.items():
        if hasattr(lib, ours):  # VAL_* live only in the C layer's private header
            assert getattr(lib, ours) == host_values[f"enum {vendor_name}"], ours


# ---- the checker fails on a difference ----------------------------------------------------------

def _copy(src: Path, dest_dir: Path, *edits: tuple[str, str]) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    text = src.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} is not once in {src}"
        text = text.replace(old, new)
    dest = dest_dir / src.name
    dest.write_text(text, encoding="utf-8")
    return dest


def test_a_changed_simulated_header_is_named(tmp_path: Path, vendor_header: Path) -> None:
    """A shorter serial number field (the structure's size does not change: the padding takes
    the 4 bytes), an enum value and a buffer-size parameter that is 8 bytes only on LP64."""
    sim = _copy(vendor_sdk.SIM_HEADER, tmp_path / "sim",
                ("char SN[64];", "char SN[60];"),
                ("POA_BAYER_MONO = -1", "POA_BAYER_MONO = -2"),
                ("unsigned char *pBuf, long lBufSize, int nTimeoutms)",
                 "unsigned char *pBuf, int lBufSize, int nTimeoutms)"))
    found = {arch: check(arch, tmp_path / "probes", vendor_header, sim_header=sim).problems
             for arch in ARCHES}
    for arch, problems in found.items():
        text = "\n".join(problems)
        assert f"{arch}: sizeof POACameraProperties.SN: vendor header 64, simulated SDK" in text
        assert f"{arch}: offsetof POACameraProperties.sensorModelName: vendor header 384," in text
        assert f"{arch}: enum POA_BAYER_MONO: vendor header -1, simulated SDK (PlayerOneCamera.h) -2" in text
        assert "sizeof POACameraProperties:" not in text  # same size: only offsets tell
        assert all("simulated SDK" in p for p in problems)  # the binding still matches
        lp64 = arch != "armhf"
        assert (f"{arch}: POAGetImageData parameter 3" in text) == lp64, text


def _binding_copy(tmp_path: Path, *edits: tuple[str, str]) -> tuple[Path, Path]:
    """A copy of the binding's header and, beside it where its ``#include`` finds it, of the
    SDK header it includes, with ``edits`` made to the latter."""
    internal = _copy(vendor_sdk.INTERNAL_HEADER, tmp_path / "src")
    api = _copy(vendor_sdk.SIM_HEADER, tmp_path / "simsdk", *edits)
    assert vendor_abi.api_header(internal) == api.resolve()
    return internal, api


def test_a_changed_binding_header_fails_only_where_the_layout_changes(
        tmp_path: Path, vendor_header: Path) -> None:
    """``long bitDepth`` instead of ``int`` in the SDK header the binding includes: 8 bytes on
    x86_64 and aarch64, the same 4 bytes on armhf, where the binding would still be right."""
    internal, api = _binding_copy(tmp_path, ("int bitDepth;", "long bitDepth;"))
    for arch in ARCHES:
        problems = check(arch, tmp_path / "probes", vendor_header, sim_header=api,
                         internal_header=internal).problems
        if arch == "armhf":
            assert problems == [], problems
            continue
        text = "\n".join(problems)
        for who in ("binding", "simulated SDK"):  # the one declaration both compile
            assert f"{arch}: sizeof POACameraProperties.bitDepth: vendor header 4, {who}" in text
            assert f"{arch}: offsetof POACameraProperties.bitDepth: vendor header 284, {who}" in text
            assert f"{arch}: offsetof POACameraProperties.pixelSize: vendor header 312, {who}" in text
            assert f"{arch}: sizeof POACameraProperties: vendor header 992, {who}" in text


def test_a_field_the_vendor_lacks_and_a_signature_are_named(tmp_path: Path,
                                                             vendor_header: Path) -> None:
    """Fields are compared by name and order too; a bound function's parameter count too."""
    internal, _api = _binding_copy(tmp_path, ("int pID;", "int productID;"),
                                   ("X(POACameraProperties, pID, 740)",
                                    "X(POACameraProperties, productID, 740)"))
    _copy(internal, internal.parent, ("X(1, POASetImageBin, int, (int, int))",
                                      "X(1, POASetImageBin, int, (int, int, int))"))
    text = "\n".join(check("x86_64", tmp_path / "probes", vendor_header,
                           internal_header=internal).problems)
    assert "x86_64: POACameraProperties fields: vendor header [" in text
    assert "'pID'" in text and "'productID'" in text
    assert "x86_64: POASetImageBin: vendor header takes 2 parameters" in text
