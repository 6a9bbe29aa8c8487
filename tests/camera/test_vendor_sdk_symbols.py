"""The vendor SDK's exported functions against what we resolve and what ``docs/vendor-sdk.md``
says, read from both real libraries (x86_64 and arm64) with ``readelf --dyn-syms``.

* Every function of the binding's ``POA_SDK_FUNCS`` (``native/src/sdk_internal.h``, the list the
  C layer dlsyms) is exported by both libraries; so is every function the vendor header and
  the simulated SDK's header declare.
* ``docs/vendor-sdk.md`` lists every exported ``POA*`` function exactly once, nothing else, and
  its decision agrees with the binding: "resolved: required" / "resolved: optional..." for
  exactly the functions ``POA_SDK_FUNCS`` holds (required as there), "not resolved" for the
  rest; a function the vendor header does not declare is resolved only where the doc's header
  column cites another declaration ("no; declared in ...").
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import vendor_abi, vendor_sdk

DOC = vendor_sdk.ROOT / "docs" / "vendor-sdk.md"
ROW = re.compile(r"^\|\s*`(POA\w+)`\s*\|\s*([^|]*?)\s*\|\s*([^|]*?)\s*\|", re.M)


@pytest.fixture(scope="module")
def exports() -> dict[str, set[str]]:
    return {arch: vendor_sdk.exported_poa(vendor_sdk.arch_library(arch)) for arch in vendor_sdk.ARCHES}


def doc_rows() -> dict[str, tuple[str, str]]:
    """The table of every exported function: name -> (header column, decision)."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Every exported function"):text.index("## The functions the header")]
    rows: dict[str, tuple[str, str]] = {}
    for name, header, decision in ROW.findall(section):
        assert name not in rows, f"{name} is listed twice in {DOC.name}"
        rows[name] = (header, decision)
    return rows


@pytest.mark.parametrize("arch", vendor_sdk.ARCHES)
def test_every_function_we_resolve_is_exported(arch: str, exports: dict[str, set[str]]) -> None:
    bound = {f.name for f in vendor_sdk.bound_functions()}
    missing = bound - exports[arch]
    assert not missing, f"{arch} library lacks {sorted(missing)}"
    declared = set(vendor_abi.parse(vendor_sdk.header()).functions)
    assert declared <= exports[arch], sorted(declared - exports[arch])
    # The simulated SDK implements the vendor's API: no function the real library lacks.
    simulated = set(vendor_abi.parse(vendor_sdk.SIM_HEADER).functions)
    assert simulated <= exports[arch], f"the simulated SDK declares {sorted(simulated - exports[arch])}"
    print(f"\n{arch}: {len(exports[arch])} POA* functions exported; the {len(bound)} we resolve "
          f"and the {len(declared)} the header declares are all among them")


def test_both_libraries_export_the_same_functions(exports: dict[str, set[str]]) -> None:
    x86, arm64 = (exports[a] for a in vendor_sdk.ARCHES)
    assert x86 == arm64, (sorted(x86 - arm64), sorted(arm64 - x86))
    assert len(x86) == 54  # SDK 3.7.0 (docs/vendor-sdk.md)


def test_the_doc_lists_every_exported_function_with_our_decision(exports: dict[str, set[str]]) -> None:
    rows = doc_rows()
    exported = set().union(*exports.values())
    assert set(rows) == exported, (f"missing from {DOC.name}: {sorted(exported - set(rows))}; "
                                   f"listed but not exported: {sorted(set(rows) - exported)}")
    declared = set(vendor_abi.parse(vendor_sdk.header()).functions)
    bound = {f.name: f for f in vendor_sdk.bound_functions()}
    for name, (header, decision) in rows.items():
        assert header.startswith("yes") == (name in declared), (name, header)
        if name in bound:
            kind = "required" if bound[name].required else "optional"
            assert decision.startswith(f"resolved: {kind}"), (name, decision)
        else:
            assert decision == "not resolved", (name, decision)
        if name in bound and name not in declared:  # only on a declaration the doc cites
            assert "declared in" in header, f"{name} is resolved without a cited declaration"
