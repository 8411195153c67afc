#!/usr/bin/env python3
"""The binaries run on any x86-64: no instruction beyond the baseline (SSE2)
outside the run-time-dispatched kernels.

usage: check_isa.py BINARY...

Disassembles each binary (objdump) and lists every function holding a VEX
or EVEX instruction (AVX, AVX2, FMA, AVX-512: mnemonics starting with 'v',
or ymm/zmm/mask registers). Only functions in attn::simd::avx2 and
attn::simd::avx512, which kernels.cpp calls after checking the CPU, may.
Exit 0 when that holds, 1 (naming the functions) when not. On a CPU that is
not x86-64 there is nothing to check."""
import platform
import re
import subprocess
import sys

ALLOWED = re.compile(r"attn::simd::(avx2|avx512)::")
WIDE = re.compile(r"^\s*[0-9a-f]+:\s+(v(?!err|erw)\w+)|%[yz]mm\d+|%k[0-7]\b")


def offenders(binary):
    out = subprocess.run(["objdump", "-d", "-C", "--no-show-raw-insn", binary], capture_output=True, text=True,
                         check=True).stdout
    bad, fn, wide_fns = {}, None, 0
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            fn = m.group(1)
            continue
        if fn and WIDE.search(line):
            if ALLOWED.search(fn):
                wide_fns += 1
            else:
                bad.setdefault(fn, line.strip())
    return bad, wide_fns


def main():
    if platform.machine() not in ("x86_64", "AMD64"):
        print("not x86-64: nothing to check")
        return 0
    failed = False
    for binary in sys.argv[1:]:
        bad, wide = offenders(binary)
        if wide == 0:
            print(f"{binary}: no dispatched kernels found (were they compiled in?)")
            failed = True
        for fn, line in sorted(bad.items()):
            print(f"{binary}: {fn} uses an instruction past x86-64's baseline: {line}")
            failed = True
        if not bad and wide:
            print(f"{binary}: baseline x86-64 outside the kernels ({wide} wide instructions, all in attn::simd::avx2/avx512)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
