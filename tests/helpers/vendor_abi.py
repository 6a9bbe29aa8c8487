"""The ABI checker: our declarations of the vendor SDK's C API against the vendor's header, as
the C compilers of each architecture lay them out.

Three sets of declarations of the same API are compiled side by side, each into its own small
C program (a "probe") whose only content is a table of numbers the compiler works out:

* the vendor's ``PlayerOneCamera.h`` (the reference);
* the simulated SDK's ``native/simsdk/PlayerOneCamera.h`` (the library the driver's tests run);
* the binding's ``native/src/sdk_internal.h`` (the ``POA_SDK_FUNCS`` signatures the C layer
  dlsyms; the structures it hands to the SDK are those of the simulated SDK's header, which it
  includes, laid out here as the C layer compiles them) with the constants of
  ``native/include`` that carry SDK values (``POA_PIX_*`` = ``POAImgFormat``,
  ``POA_SDK_ERR_TIMEOUT`` = ``POA_ERROR_TIMEOUT``, ``POA_OK``).

The numbers: every structure's size and alignment, every field's offset and size, every enum
value and enum type size, and the size of every type a function signature uses. The probe is
only compiled (``-c``), never run, so a cross compiler needs no emulator: the table sits in the
object file's ``.abi_values`` section, read back with binutils' ``readelf -x`` (which reads any
architecture's ELF). A magic number and the item count open the table, so a misread fails
loudly.

:func:`check` compares them for one architecture and returns the differences (empty: the ABI
matches) with a count of what was compared. The field lists and the signatures' parameter
counts are compared as text; sizes, offsets and values as the compiler computed them.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pytest

from helpers.vendor_sdk import INTERNAL_HEADER, ROOT, SIM_HEADER, bound_functions

#: The compilers of the architectures the SDK ships for (.ci/setup installs the cross ones).
COMPILERS = {"x86_64": "gcc", "aarch64": "aarch64-linux-gnu-gcc", "armhf": "arm-linux-gnueabihf-gcc"}
NATIVE_INCLUDE = ROOT / "native" / "include"
NATIVE_SRC = ROOT / "native" / "src"
MAGIC = 0x41424931  # "ABI1"
SECTION = ".abi_values"

#: The binding's C constants that carry SDK values, by the vendor's name for the value.
BINDING_CONSTANTS = {
    "POA_OK": "POA_OK",
    "POA_ERROR_TIMEOUT": "POA_SDK_ERR_TIMEOUT",
    "VAL_INT": "VAL_INT", "VAL_FLOAT": "VAL_FLOAT", "VAL_BOOL": "VAL_BOOL",
    "POA_RAW8": "POA_PIX_RAW8", "POA_RAW16": "POA_PIX_RAW16", "POA_RGB24": "POA_PIX_RGB24",
    "POA_MONO8": "POA_PIX_MONO8",
}

#: Enumerators of newer SDKs that the vendor header of the test peers (3.7.0) lacks: where each
#: is declared, and the enumerator it must follow (its value is that one's + 1).
NEWER_ENUMERATORS = {
    "POA_EXP": ("SDK 3.8.0; declared in PlayerOneCamera.h V3.10.0 (OpenPHDGuiding/phd2, "
                "cameras/playerone/include/PlayerOneCamera.h)", "POA_MONO_BIN"),
}


# ---- reading C declarations as text ----------------------------------------------------------

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_TYPEDEF = re.compile(r"typedef\s+(struct|union|enum)\s*\w*\s*\{(.*?)\}\s*(\w+)\s*;", re.S)
_FIELD = re.compile(r"^(.*?)\b(\w+)\s*((?:\[[^\]]*\])*)$", re.S)
_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
_PROTO = re.compile(r"POACAMERA_API\s+([\w\s\*]+?)\s*\b(POA\w+)\s*\(([^)]*)\)\s*;")


@dataclass
class Declarations:
    """What one header declares: structures/unions (fields in order), enums (enumerators in
    order) and, for the SDK headers, function prototypes (return type, parameter types)."""

    aggregates: dict[str, list[str]] = field(default_factory=dict)
    enums: dict[str, list[str]] = field(default_factory=dict)
    functions: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)


def _param_type(param: str) -> str:
    """``"const char* pCustomID"`` -> ``"const char *"``; a parameter without a name as is."""
    param = " ".join(param.replace("*", " * ").split())
    words = param.split()
    if len(words) > 1 and words[-1] != "*" and words[-1] not in ("int", "long", "char", "double"):
        words = words[:-1]  # the parameter's name
    return " ".join(words)


def parse(path: Path) -> Declarations:
    """The declarations of one header file (not of the files it includes)."""
    text = _COMMENT.sub(" ", path.read_text(encoding="utf-8-sig"))
    out = Declarations()
    for kind, body, name in _TYPEDEF.findall(text):
        if kind == "enum":
            out.enums[name] = [e.split("=")[0].strip() for e in body.split(",") if e.strip()]
            continue
        fields = []
        for decl in body.split(";"):
            decl = " ".join(decl.split())
            if decl:
                match = _FIELD.match(decl)
                assert match, f"{path}: cannot read the field {decl!r} of {name}"
                fields.append(match.group(2))
        out.aggregates[name] = fields
    for ret, name, params in _PROTO.findall(text):
        types = tuple(_param_type(p) for p in params.split(",") if p.strip() and p.strip() != "void")
        out.functions[name] = (_param_type(ret + " x"), types)
    return out


def base_type(ctype: str) -> str:
    """A type without ``const`` and pointer stars: ``"const POABool *"`` -> ``"POABool"``."""
    return " ".join(w for w in ctype.replace("*", " ").split() if w != "const")


# ---- the probe ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    """One header as one compiler sees it: ``items`` are (label, C expression) pairs."""

    include: str  # the header's file name, as #included
    include_dirs: tuple[Path, ...]
    items: tuple[tuple[str, str], ...]


def _source(probe: Probe) -> str:
    values = ",\n".join(f"    (long long)({expr})" for _label, expr in probe.items)
    return (f"/* ABI probe: compiled, never run; see tests/helpers/vendor_abi.py */\n"
            f"#include <stddef.h>\n#include \"{probe.include}\"\n"
            f"__attribute__((used, section(\"{SECTION}\")))\n"
            f"const long long abi_values[] = {{\n    {MAGIC}LL, {len(probe.items)}LL,\n{values}\n}};\n")


def _section_bytes(obj: Path, size: int) -> bytes:
    """``size`` bytes of the probe's section, from ``readelf -x`` (a hex dump: 16 bytes a line,
    in groups of 4; the ASCII column after the groups is never read, the byte count says
    where the groups end)."""
    dump = subprocess.run(["readelf", "-x", SECTION, str(obj)], capture_output=True, text=True,
                          check=True).stdout
    data = bytearray()
    for line in dump.splitlines():
        words = line.split()
        if not words or not words[0].startswith("0x") or len(data) >= size:
            continue
        groups = min(4, (size - len(data) + 3) // 4)
        data += bytes.fromhex("".join(words[1:1 + groups]))
    return bytes(data[:size])


@lru_cache(maxsize=None)
def run_probe(arch: str, probe: Probe, workdir: Path) -> dict[str, int]:
    """Compile ``probe`` for ``arch`` and read its table: label -> value."""
    cc = COMPILERS[arch]
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} not installed (bash .ci/setup installs the cross compilers)")
    if shutil.which("readelf") is None:
        pytest.skip("readelf not installed (binutils)")
    workdir.mkdir(parents=True, exist_ok=True)
    stem = f"probe-{arch}-{abs(hash(probe)):x}"
    src, obj = workdir / f"{stem}.c", workdir / f"{stem}.o"
    src.write_text(_source(probe))
    # The headers' own _Static_asserts are switched off: the probe lists every difference
    # instead of stopping at the first assertion a changed layout trips.
    cmd = [cc, "-std=c11", "-D_GNU_SOURCE", "-D_Static_assert(cond,text)=", "-O0", "-c", str(src),
           "-o", str(obj), *(f"-I{d}" for d in probe.include_dirs)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{res.stderr}")
    count = len(probe.items) + 2
    raw = _section_bytes(obj, 8 * count)
    assert len(raw) == 8 * count, f"{obj}: section {SECTION} has {len(raw)} bytes, not {8 * count}"
    for order in "<>":
        values = struct.unpack(f"{order}{count}q", raw)
        if values[:2] == (MAGIC, count - 2):
            return {label: v for (label, _e), v in zip(probe.items, values[2:])}
    raise AssertionError(f"{obj}: the table does not start with the probe's magic and count")


def _layout_items(decls: Declarations, names: list[str]) -> list[tuple[str, str]]:
    items = []
    for name in names:
        if name not in decls.aggregates:
            continue
        items += [(f"sizeof {name}", f"sizeof({name})"), (f"alignof {name}", f"_Alignof({name})")]
        for f in decls.aggregates[name]:
            items += [(f"offsetof {name}.{f}", f"offsetof({name}, {f})"),
                      (f"sizeof {name}.{f}", f"sizeof((({name} *)0)->{f})")]
    return items


def _type_items(types: set[str]) -> list[tuple[str, str]]:
    return [(f"sizeof type {t}", f"sizeof({t})") for t in sorted(types)] + [
        ("sizeof type void *", "sizeof(void *)")]


def sdk_header_probe(header: Path, aggregates: list[str]) -> tuple[Probe, Declarations]:
    """The probe of an SDK header (the vendor's, the simulated SDK's)."""
    decls = parse(header)
    items = _layout_items(decls, aggregates)
    for enum, names in decls.enums.items():
        items.append((f"sizeof type {enum}", f"sizeof({enum})"))
        items += [(f"enum {n}", n) for n in names]
    types = {base_type(t) for ret, params in decls.functions.values() for t in (ret, *params)}
    items += _type_items(types - set(decls.enums))
    return Probe(header.name, (header.parent,), tuple(items)), decls


def api_header(internal: Path = INTERNAL_HEADER) -> Path:
    """The SDK header ``sdk_internal.h`` includes, found as the compiler finds it (beside the
    including file first, then the probe's include directories)."""
    name = next(n for n in _INCLUDE.findall(internal.read_text(encoding="utf-8"))
                if Path(n).name == SIM_HEADER.name)
    for folder in (internal.parent, NATIVE_SRC, NATIVE_INCLUDE):
        if (folder / name).is_file():
            return (folder / name).resolve()
    raise AssertionError(f"{internal} includes {name}, which is not found")


def binding_probe(internal: Path = INTERNAL_HEADER) -> tuple[Probe, Declarations]:
    """The probe of the binding (``sdk_internal.h``): the structures of the SDK header it
    includes, as compiled through it, its signatures and constants."""
    decls = parse(internal)
    decls.aggregates = {**parse(api_header(internal)).aggregates, **decls.aggregates}
    items = _layout_items(decls, list(decls.aggregates))
    items += [(f"enum {vendor}", ours) for vendor, ours in BINDING_CONSTANTS.items()]
    types = {base_type(t) for f in bound_functions(internal) for t in (f.returns, *f.params)}
    items += _type_items(types)
    dirs = (internal.parent, NATIVE_SRC, NATIVE_INCLUDE)
    return Probe(internal.name, dirs, tuple(items)), decls


# ---- comparing ---------------------------------------------------------------------------------

@dataclass
class Result:
    """What :func:`check` found for one architecture."""

    arch: str
    problems: list[str] = field(default_factory=list)
    compared: dict[str, int] = field(default_factory=dict)  # what was compared, by kind
    vendor: dict[str, int] = field(default_factory=dict)  # the vendor header's values
    undeclared: list[str] = field(default_factory=list)  # simulated SDK functions, not compared

    def count(self, kind: str, n: int = 1) -> None:
        self.compared[kind] = self.compared.get(kind, 0) + n


def _abi_of(ctype: str, values: dict[str, int], decls: Declarations) -> tuple:
    """What a parameter or return type is to the calling convention: its class and size; for
    a pointer, its target's class, size and structure name."""
    base = base_type(ctype)
    if base in decls.aggregates:
        size = values.get(f"sizeof {base}", values.get(f"sizeof type {base}"))
        target: tuple = ("aggregate", base, size)
    elif base in ("double", "float"):
        target = ("float", values[f"sizeof type {base}"])
    else:
        target = ("integer", values[f"sizeof type {base}"])
    if "*" in ctype:
        return ("pointer", values["sizeof type void *"], target)
    return target


def _compare_values(res: Result, vendor: dict[str, int], other: dict[str, int], who: str,
                    labels: list[str]) -> None:
    for label in labels:
        if label not in other:
            continue
        kind = label.split()[0]
        res.count(kind)
        if other[label] != vendor[label]:
            res.problems.append(f"{res.arch}: {label}: vendor header {vendor[label]}, "
                                f"{who} {other[label]}")


def check(arch: str, workdir: Path, vendor_header: Path, sim_header: Path = SIM_HEADER,
          internal_header: Path = INTERNAL_HEADER) -> Result:
    """Every structure size, field offset and size, enum value and signature the binding and
    the simulated SDK use, against the vendor header, as ``arch``'s compiler lays them out."""
    res = Result(arch)
    bind_probe, bind = binding_probe(internal_header)
    structs = list(bind.aggregates)
    vend_probe, vend = sdk_header_probe(vendor_header, structs)
    sim_probe, sim = sdk_header_probe(sim_header, structs)
    v = res.vendor = run_probe(arch, vend_probe, workdir)
    b = run_probe(arch, bind_probe, workdir)
    s = run_probe(arch, sim_probe, workdir)
    who_b, who_s = f"binding ({internal_header.name})", f"simulated SDK ({sim_header.name})"

    # structures: the same fields in the same order, then every size and offset
    for name in structs:
        if name not in vend.aggregates:
            res.problems.append(f"{arch}: {name}: not declared in the vendor header")
            continue
        for who, decls in ((who_b, bind), (who_s, sim)):
            if decls.aggregates.get(name) != vend.aggregates[name]:
                res.problems.append(f"{arch}: {name} fields: vendor header "
                                    f"{vend.aggregates[name]}, {who} {decls.aggregates.get(name)}")
    layout = [label for label in v if label.split()[0] in ("sizeof", "alignof", "offsetof")
              and not label.startswith("sizeof type")]
    _compare_values(res, v, b, who_b, layout)
    _compare_values(res, v, s, who_s, layout)

    # enums: the simulated SDK has every vendor enumerator with its value; the binding's
    # constants equal the vendor values they stand for
    enum_labels = [label for label in v if label.startswith(("enum ", "sizeof type"))]
    for label in enum_labels:
        if label.startswith("enum ") and label not in s:
            res.problems.append(f"{arch}: {label}: missing in the {who_s}")
    _compare_values(res, v, s, who_s, [lb for lb in enum_labels if lb.startswith("enum ")])
    _compare_values(res, v, b, who_b, [lb for lb in enum_labels if lb.startswith("enum ")])
    _compare_values(res, v, s, who_s, [f"sizeof type {e}" for e in vend.enums])
    for label in (lb for lb in s if lb.startswith("enum ") and lb not in v):
        name = label.split()[1]
        if name not in NEWER_ENUMERATORS:
            res.problems.append(f"{arch}: {label}: in the {who_s} but not in the vendor header")
        elif s[label] != v[f"enum {NEWER_ENUMERATORS[name][1]}"] + 1:
            res.problems.append(f"{arch}: {label}: {s[label]}, not the value after "
                                f"{NEWER_ENUMERATORS[name][1]}")

    # signatures: every function the binding resolves (each must be declared by the vendor
    # header), and every one the simulated SDK declares that the vendor header declares too
    # (the simulated SDK may also implement functions the library exports undeclared: those
    # have nothing to be compared with; tests/camera/test_vendor_sdk_symbols.py checks that
    # the library exports them)
    for fn in bound_functions(internal_header):
        _compare_signature(res, fn.name, vend, v, (fn.returns, fn.params), bind, b, who_b)
    for name, sig in sim.functions.items():
        if name in vend.functions:
            _compare_signature(res, name, vend, v, sig, sim, s, who_s)
        else:
            res.undeclared.append(name)
    return res


def _compare_signature(res: Result, name: str, vend: Declarations, v: dict[str, int],
                       sig: tuple[str, tuple[str, ...]], decls: Declarations, values: dict[str, int],
                       who: str) -> None:
    if name not in vend.functions:
        res.problems.append(f"{res.arch}: {name}: the {who} declares it, the vendor header does not")
        return
    vret, vparams = vend.functions[name]
    ret, params = sig
    res.count("signature")
    if len(params) != len(vparams):
        res.problems.append(f"{res.arch}: {name}: vendor header takes {len(vparams)} parameters "
                            f"{vparams}, {who} {len(params)} {params}")
        return
    for i, (mine, theirs) in enumerate(((ret, vret), *zip(params, vparams))):
        a, b = _abi_of(mine, values, decls), _abi_of(theirs, v, vend)
        if a != b:
            what = "return type" if i == 0 else f"parameter {i}"
            res.problems.append(f"{res.arch}: {name} {what}: vendor header {theirs!r} {b}, "
                                f"{who} {mine!r} {a}")
