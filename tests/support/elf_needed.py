"""The libraries an ELF shared object asks the loader for (its DT_NEEDED entries), read directly:
CI machines need not have binutils, and `ldd` lists dependencies of dependencies too."""

from __future__ import annotations

import struct
from pathlib import Path

DT_NEEDED, DT_STRTAB, PT_DYNAMIC, PT_LOAD = 1, 5, 2, 1


def needed(path: Path) -> list[str]:
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2, f"{path} is not a 64-bit ELF file"
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads, dynamic = [], None
    for i in range(phnum):
        kind, _, offset, vaddr, _, filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize
        )
        if kind == PT_LOAD:
            loads.append((vaddr, offset, filesz))
        elif kind == PT_DYNAMIC:
            dynamic = (offset, filesz)
    assert dynamic is not None, f"{path} has no dynamic section"
    entries = [struct.unpack_from("<qQ", data, dynamic[0] + i) for i in range(0, dynamic[1], 16)]
    strtab_addr = next(value for tag, value in entries if tag == DT_STRTAB)
    # DT_STRTAB is an address in memory; the segment holding it says where it is in the file.
    strtab = next(o + strtab_addr - v for v, o, size in loads if v <= strtab_addr < v + size)
    names = []
    for tag, value in entries:
        if tag == DT_NEEDED:
            start = strtab + value
            names.append(data[start : data.index(b"\0", start)].decode())
    return names
