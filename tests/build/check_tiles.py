#!/usr/bin/env python3
"""The matrix-multiply micro-kernels keep their accumulators and B values in
registers: no arithmetic instruction in them takes an operand from the stack.

usage: check_tiles.py BINARY

A spilled register in the tile's loop costs a load per multiply-add: one
B vector spilled this way (the compiler kept the C-tile prefetch addresses
in vector registers) made every product about 30% slower on AVX-512 with
all tests passing. Disassembles BINARY (objdump), finds the micro-kernels
of every ISA (gemm_tile and its row-reading variant, attn::simd::<isa>) and
lists any multiply or add whose memory operand is on the stack. Exit 0
when none does, 1 (naming them) when one does or no kernel was found. On a
CPU that is not x86-64 there is nothing to check."""
import platform
import re
import subprocess
import sys

KERNEL = re.compile(r"attn::simd::(avx512|avx2|generic)::.*\b(gemm_tile|gemm_tile_rows|tile)<")
SPILL = re.compile(r"^\s*[0-9a-f]+:\s+(v?fmadd\w*|v?fnmadd\w*|v?mulps|v?addps)\s.*\(%(rsp|rbp)\)")


def main():
    if platform.machine() not in ("x86_64", "AMD64"):
        print("not x86-64: nothing to check")
        return 0
    out = subprocess.run(["objdump", "-d", "-C", "--no-show-raw-insn", sys.argv[1]], capture_output=True, text=True,
                         check=True).stdout
    kernels, bad, fn = set(), [], None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            fn = m.group(1) if KERNEL.search(m.group(1)) else None
            if fn:
                kernels.add(fn)
            continue
        if fn and SPILL.search(line):
            bad.append(f"{fn}: {line.strip()}")
    for b in bad:
        print("operand from the stack in a micro-kernel:", b)
    isas = {KERNEL.search(k).group(1) for k in kernels}
    if not {"avx512", "avx2", "generic"} <= isas:
        print(f"micro-kernels found only for {sorted(isas)} (were they compiled in?)")
        return 1
    if not bad:
        print(f"{len(kernels)} micro-kernels, every multiply-add on registers")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
