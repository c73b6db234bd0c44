import os
import sys

import pytest

import irr.xirr  # noqa: F401  (irr.xirr the module, which the package's xirr function shadows)


def require_compiled_packer():
    """Skip without irr's compiled packer (irr/_speedups.c, built by `make install`), except
    under CI=true, where .ci/run builds it: missing there, it is a broken build."""
    if sys.modules["irr.xirr"]._pack_flows is not None:
        return
    reason = "irr's compiled packer is not built (make install builds irr/_speedups.c)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}.", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(params=["compiled", "python"])
def packer(request, monkeypatch):
    """Run the test once with each of xirr_many's packers: the compiled one and the
    pure-Python one it falls back to."""
    if request.param == "compiled":
        require_compiled_packer()
    else:
        monkeypatch.setattr(sys.modules["irr.xirr"], "_pack_flows", None)
    return request.param
