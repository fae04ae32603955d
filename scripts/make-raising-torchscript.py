#!/usr/bin/env python3
"""Writes tests/fixtures/torchscript/raises.pt: a TorchScript module whose forward raises
RuntimeError("boom"), the way `torch.jit.script` serialises `raise RuntimeError("boom")`.

Python torch is not needed: a TorchScript file is a zip of Python-like source and pickles, laid
out as libtorch 2.x writes it (stored, not compressed). infertop's tests use the file to check
that the cause of a scripted exception reaches the user.
"""
import sys
import zipfile

CODE = '''class Raises(Module):
  __parameters__ = []
  __buffers__ = []
  def forward(self: __torch__.Raises,
    x: Tensor) -> Tensor:
    ops.prim.RaiseException("boom", "builtins.RuntimeError")
    return x
'''
# The module object: __torch__.Raises with an empty state, pickled with protocol 2.
DATA = b"\x80\x02c__torch__\nRaises\nq\x00)\x81}(ubq\x01."
CONSTANTS = b"\x80\x02)."

out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/torchscript/raises.pt"
with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
    for name, data in [
        ("raises/data.pkl", DATA),
        ("raises/code/__torch__.py", CODE.encode()),
        ("raises/constants.pkl", CONSTANTS),
        ("raises/version", b"3\n"),
        ("raises/byteorder", b"little"),
    ]:
        info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
        z.writestr(info, data)
print(out)
